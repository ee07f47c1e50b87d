//! A learner's daily goal and streak.
use chrono::{Days, NaiveDate};

/// Practice messages with the tutor per day, until the learner picks.
pub const DEFAULT_DAILY_GOAL: u32 = 3;

/// A daily goal that has been checked: 1 up to the bot's daily allowance
/// (a goal the quota would not let anyone reach is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyGoal(u32);

impl DailyGoal {
    pub fn parse(messages: u32, allowance: u32) -> Result<Self, String> {
        let most = allowance.max(1);
        if (1..=most).contains(&messages) {
            Ok(Self(messages))
        } else {
            Err(format!(
                "daily_goal must be 1..{most} practice messages (the daily allowance is {allowance})"
            ))
        }
    }

    /// A stored goal, trusted (it was parsed when it was set).
    pub fn stored(messages: i32) -> Self {
        Self(messages.max(1) as u32)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// One day's practice, as the streak sees it.
#[derive(Debug, Clone, Copy)]
pub struct Day {
    pub date: NaiveDate,
    pub messages: u32,
    /// The goal in force on that day.
    pub goal: DailyGoal,
}

impl Day {
    pub fn met(&self) -> bool {
        self.messages >= self.goal.get()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streak {
    /// Days in a row with the goal met, up to today (or up to yesterday while
    /// today's goal is not met yet: the streak is not lost before the day ends).
    pub days: u32,
    pub today_met: bool,
}

/// The streak on `today` from the days that had practice, newest first (days
/// without practice are simply absent). Reads only as far back as the streak
/// goes.
pub fn streak(today: NaiveDate, newest_first: impl IntoIterator<Item = Day>) -> Streak {
    let mut days = newest_first.into_iter().filter(|d| d.date <= today).peekable();
    let today_met = days.peek().is_some_and(|d| d.date == today && d.met());
    if days.peek().is_some_and(|d| d.date == today && !d.met()) {
        days.next();
    }
    let mut expected = if today_met {
        today
    } else {
        match today.checked_sub_days(Days::new(1)) {
            Some(d) => d,
            None => return Streak { days: 0, today_met },
        }
    };
    let mut count = 0;
    for day in days {
        if day.date != expected || !day.met() {
            break;
        }
        count += 1;
        match expected.checked_sub_days(Days::new(1)) {
            Some(d) => expected = d,
            None => break,
        }
    }
    Streak { days: count, today_met }
}

/// A day's key in the tables that count by day: `YYYY-MM-DD`.
pub fn day_key(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, messages: u32, goal: u32) -> Day {
        Day {
            date: date.parse().unwrap(),
            messages,
            goal: DailyGoal::stored(goal as i32),
        }
    }

    fn on(date: &str, days: &[Day]) -> Streak {
        streak(date.parse().unwrap(), days.iter().copied())
    }

    #[test]
    fn a_goal_is_one_up_to_the_daily_allowance() {
        assert_eq!(DailyGoal::parse(3, 5).unwrap().get(), 3);
        assert_eq!(DailyGoal::parse(5, 5).unwrap().get(), 5);
        assert!(DailyGoal::parse(0, 5).unwrap_err().contains("1..5"));
        assert!(DailyGoal::parse(6, 5).is_err());
        assert_eq!(DailyGoal::parse(1, 0).unwrap().get(), 1);
    }

    #[test]
    fn the_streak_counts_days_in_a_row_with_the_goal_met() {
        let days = [
            day("2026-12-06", 3, 3),
            day("2026-12-05", 4, 3),
            day("2026-12-04", 1, 1),
        ];
        assert_eq!(
            on("2026-12-06", &days),
            Streak {
                days: 3,
                today_met: true
            }
        );
        // A day below its goal, or a day without practice, ends it.
        let broken = [
            day("2026-12-06", 3, 3),
            day("2026-12-05", 2, 3),
            day("2026-12-04", 3, 3),
        ];
        assert_eq!(
            on("2026-12-06", &broken),
            Streak {
                days: 1,
                today_met: true
            }
        );
        let gap = [day("2026-12-06", 3, 3), day("2026-12-04", 3, 3)];
        assert_eq!(
            on("2026-12-06", &gap),
            Streak {
                days: 1,
                today_met: true
            }
        );
    }

    #[test]
    fn today_not_met_yet_keeps_yesterdays_streak_until_the_day_ends() {
        let days = [
            day("2026-12-06", 1, 3),
            day("2026-12-05", 3, 3),
            day("2026-12-04", 3, 3),
        ];
        assert_eq!(
            on("2026-12-06", &days),
            Streak {
                days: 2,
                today_met: false
            }
        );
        let none_today = &days[1..];
        assert_eq!(
            on("2026-12-06", none_today),
            Streak {
                days: 2,
                today_met: false
            }
        );
        // The day after that, with nothing done yesterday: gone.
        assert_eq!(
            on("2026-12-08", none_today),
            Streak {
                days: 0,
                today_met: false
            }
        );
        assert_eq!(
            on("2026-12-06", &[]),
            Streak {
                days: 0,
                today_met: false
            }
        );
    }
}
