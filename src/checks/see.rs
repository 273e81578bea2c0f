//! Pointers from one rule's message to the rules that look at the cause
//! ("see DNS-FED-01 and DNS-FED-05"). The IDs come from the rule's own
//! parameters, checked when the rules are loaded; a rule that names none
//! points nowhere.

/// "A", "A and B", "A, B and C".
fn and_list(rules: &[String]) -> String {
    match rules {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// " (see A and B)", or nothing.
pub fn in_parentheses(rules: &[String]) -> String {
    if rules.is_empty() { String::new() } else { format!(" (see {})", and_list(rules)) }
}

/// "; see A and B", or nothing.
pub fn after(rules: &[String]) -> String {
    if rules.is_empty() { String::new() } else { format!("; see {}", and_list(rules)) }
}

/// "; see A, B", for lists of causes, or nothing.
pub fn listed(rules: &[String]) -> String {
    if rules.is_empty() { String::new() } else { format!("; see {}", rules.join(", ")) }
}
