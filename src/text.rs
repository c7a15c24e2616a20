//! Words shared by every room's messages.

/// `one` for one thing, `many` for any other count ("1 hook", "0 hooks", "2 hooks").
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
