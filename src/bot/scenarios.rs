//! Practice scenarios: what the bot plays, and how it opens.

/// One role-play the learner can practise.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// The bot's first line, shown when the chat opens.
    pub opening_line: &'static str,
    /// The role the model plays, folded into the system prompt.
    pub role: &'static str,
    /// What the learner should manage to do in the conversation.
    pub goals: &'static [Goal],
}

/// A practice goal, reached when the learner's messages use one of its cues
/// (lower-case; each matched at the start of a word, `?` anywhere).
#[derive(Debug, Clone, Copy)]
pub struct Goal {
    pub text: &'static str,
    pub cues: &'static [&'static str],
}

impl Goal {
    /// Whether `learner_text` (everything the learner wrote) reaches this goal.
    pub fn reached_in(&self, learner_text: &str) -> bool {
        let text = learner_text.to_lowercase().replace('\u{2019}', "'");
        self.cues.iter().any(|cue| {
            text.match_indices(cue).any(|(at, _)| {
                !cue.starts_with(char::is_alphanumeric)
                    || !text[..at].chars().next_back().is_some_and(char::is_alphanumeric)
            })
        })
    }
}

const ASKS_A_QUESTION: &[&str] = &["?"];

pub const DEFAULT_SCENARIO: &str = "free_talk";

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "free_talk",
        title: "Free talk",
        description: "Chat about anything you like with a friendly conversation partner.",
        opening_line: "Hi! What would you like to talk about today?",
        role: "You are a friendly, curious conversation partner. Talk about whatever the learner brings up, and ask open questions to keep them talking.",
        goals: &[
            Goal {
                text: "Talk about something you did recently",
                cues: &["yesterday", "last ", "ago", "went", "did ", "was ", "were "],
            },
            Goal {
                text: "Say what you like or dislike",
                cues: &["like", "love", "enjoy", "hate", "prefer", "favourite", "favorite"],
            },
            Goal {
                text: "Ask your partner a question",
                cues: ASKS_A_QUESTION,
            },
        ],
    },
    Scenario {
        id: "job_interview",
        title: "Job interview",
        description: "Answer an interviewer's questions for a job you want.",
        opening_line: "Good morning, thanks for coming in. Could you start by telling me a little about yourself?",
        role: "You are a professional but warm hiring manager interviewing the learner for a job they choose. Ask one interview question at a time and follow up on their answers.",
        goals: &[
            Goal {
                text: "Introduce yourself",
                cues: &["my name", "i am", "i'm", "i work", "i have been", "i've been", "i studied"],
            },
            Goal {
                text: "Describe your experience",
                cues: &["experience", "worked", "years", "responsible", "project", "skills"],
            },
            Goal {
                text: "Ask the interviewer a question",
                cues: ASKS_A_QUESTION,
            },
        ],
    },
    Scenario {
        id: "restaurant",
        title: "Ordering at a restaurant",
        description: "Order a meal, ask about the menu and pay the bill.",
        opening_line: "Good evening and welcome! Here is the menu. Can I get you something to drink to start?",
        role: "You are a waiter in a busy restaurant. Take the learner's order, answer questions about dishes, suggest specials and handle the bill.",
        goals: &[
            Goal {
                text: "Order a drink",
                cues: &["water", "juice", "wine", "beer", "coffee", "tea", "cola", "lemonade", "a drink"],
            },
            Goal {
                text: "Order a main course",
                cues: &["i'd like", "i would like", "i'll have", "i will have", "can i have", "could i have", "can i get", "steak", "chicken", "fish", "pasta", "pizza", "salad", "burger", "soup"],
            },
            Goal {
                text: "Ask for the bill",
                cues: &["bill", "the check", "pay"],
            },
        ],
    },
    Scenario {
        id: "hotel_check_in",
        title: "Hotel check-in",
        description: "Check in at a hotel reception and sort out your room.",
        opening_line: "Hello, welcome to the Riverside Hotel. Do you have a reservation with us?",
        role: "You are a hotel receptionist. Check the learner in, ask for their booking details, explain breakfast times and the Wi-Fi, and help with any problem.",
        goals: &[
            Goal {
                text: "Give your name and booking",
                cues: &["reservation", "booking", "booked", "my name", "under the name"],
            },
            Goal {
                text: "Ask about breakfast or the Wi-Fi",
                cues: &["breakfast", "wi-fi", "wifi", "internet"],
            },
            Goal {
                text: "Ask for help with a problem",
                cues: &["problem", "broken", "doesn't work", "does not work", "noisy", "help", "could you", "can you"],
            },
        ],
    },
    Scenario {
        id: "small_talk_at_work",
        title: "Small talk at work",
        description: "Chat with a colleague by the coffee machine.",
        opening_line: "Morning! Did you have a good weekend?",
        role: "You are a friendly colleague making small talk at the office coffee machine: weekends, weather, projects, plans.",
        goals: &[
            Goal {
                text: "Talk about your weekend",
                cues: &["weekend", "saturday", "sunday"],
            },
            Goal {
                text: "Mention your plans",
                cues: &["going to", "will ", "plan", "next week", "tomorrow", "tonight"],
            },
            Goal {
                text: "Ask your colleague a question",
                cues: ASKS_A_QUESTION,
            },
        ],
    },
    Scenario {
        id: "doctor_visit",
        title: "A doctor's visit",
        description: "Describe how you feel and understand the doctor's advice.",
        opening_line: "Hello, please take a seat. What seems to be the problem today?",
        role: "You are a general practitioner seeing the learner as a patient. Ask about their symptoms, how long they have had them, and give simple, general advice. Do not give real medical diagnoses.",
        goals: &[
            Goal {
                text: "Describe your symptoms",
                cues: &["pain", "hurt", "ache", "fever", "cough", "sore", "tired", "dizzy", "sick", "headache", "temperature"],
            },
            Goal {
                text: "Say how long you have had them",
                cues: &["days", "weeks", "since", "for a ", "yesterday", "last "],
            },
            Goal {
                text: "Ask what you should do",
                cues: &["should", "what can", "medicine", "recommend", "how often"],
            },
        ],
    },
];

pub fn find(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
}

/// A chat's scenario; free talk when it has none (or one no longer offered).
pub fn of_chat(scenario_id: Option<&str>) -> &'static Scenario {
    scenario_id
        .and_then(find)
        .or_else(|| find(DEFAULT_SCENARIO))
        .expect("the default scenario exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_ids_are_unique_and_the_default_exists() {
        let mut ids: Vec<_> = SCENARIOS.iter().map(|s| s.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), SCENARIOS.len());
        assert!(find(DEFAULT_SCENARIO).is_some());
        assert!(SCENARIOS.iter().all(|s| (2..=3).contains(&s.goals.len())));
    }

    #[test]
    fn goals_are_reached_by_their_cues_at_word_starts() {
        let restaurant = find("restaurant").unwrap();
        let [drink, main, bill] = restaurant.goals else {
            panic!()
        };
        assert!(drink.reached_in("A glass of Water, please"));
        assert!(main.reached_in("I\u{2019}d like the chicken"));
        assert!(bill.reached_in("Can we have the bill?"));
        assert!(!bill.reached_in("Thank you, that was lovely."));
        assert!(!drink.reached_in("I like steakwater"), "not inside a word");
        let question = find("free_talk").unwrap().goals[2];
        assert!(question.reached_in("And you?"));
        assert!(!question.reached_in("I am fine."));
    }
}
