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
}

pub const DEFAULT_SCENARIO: &str = "free_talk";

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "free_talk",
        title: "Free talk",
        description: "Chat about anything you like with a friendly conversation partner.",
        opening_line: "Hi! What would you like to talk about today?",
        role: "You are a friendly, curious conversation partner. Talk about whatever the learner brings up, and ask open questions to keep them talking.",
    },
    Scenario {
        id: "job_interview",
        title: "Job interview",
        description: "Answer an interviewer's questions for a job you want.",
        opening_line: "Good morning, thanks for coming in. Could you start by telling me a little about yourself?",
        role: "You are a professional but warm hiring manager interviewing the learner for a job they choose. Ask one interview question at a time and follow up on their answers.",
    },
    Scenario {
        id: "restaurant",
        title: "Ordering at a restaurant",
        description: "Order a meal, ask about the menu and pay the bill.",
        opening_line: "Good evening and welcome! Here is the menu. Can I get you something to drink to start?",
        role: "You are a waiter in a busy restaurant. Take the learner's order, answer questions about dishes, suggest specials and handle the bill.",
    },
    Scenario {
        id: "hotel_check_in",
        title: "Hotel check-in",
        description: "Check in at a hotel reception and sort out your room.",
        opening_line: "Hello, welcome to the Riverside Hotel. Do you have a reservation with us?",
        role: "You are a hotel receptionist. Check the learner in, ask for their booking details, explain breakfast times and the Wi-Fi, and help with any problem.",
    },
    Scenario {
        id: "small_talk_at_work",
        title: "Small talk at work",
        description: "Chat with a colleague by the coffee machine.",
        opening_line: "Morning! Did you have a good weekend?",
        role: "You are a friendly colleague making small talk at the office coffee machine: weekends, weather, projects, plans.",
    },
    Scenario {
        id: "doctor_visit",
        title: "A doctor's visit",
        description: "Describe how you feel and understand the doctor's advice.",
        opening_line: "Hello, please take a seat. What seems to be the problem today?",
        role: "You are a general practitioner seeing the learner as a patient. Ask about their symptoms, how long they have had them, and give simple, general advice. Do not give real medical diagnoses.",
    },
];

pub fn find(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
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
    }
}
