//! Sync waves (Argo CD's "Sync Phases and Waves" documentation): Go `strconv.Atoi` on the Argo annotation, else on Helm's hook weight, else 0.

/// Go's `strconv.Atoi` for a 64-bit int: optional sign, ASCII digits, no spaces, in range.
pub fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Rust's parser accepts the same grammar (sign, digits), and rejects out-of-range values.
    s.parse().ok()
}

pub fn effective(argo: Option<&str>, helm_weight: Option<&str>) -> i64 {
    argo.and_then(atoi)
        .or_else(|| helm_weight.and_then(atoi))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_like_go() {
        assert_eq!(atoi("1"), Some(1));
        assert_eq!(atoi("-5"), Some(-5));
        assert_eq!(atoi("+5"), Some(5));
        assert_eq!(atoi("007"), Some(7));
        for bad in [
            "",
            " 1",
            "1 ",
            "1.5",
            "1_000",
            "0x10",
            "one",
            "+",
            "-",
            "99999999999999999999",
        ] {
            assert_eq!(atoi(bad), None, "{bad:?}");
        }
        assert_eq!(atoi("9223372036854775807"), Some(i64::MAX));
        assert_eq!(atoi("-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn argo_then_helm_then_zero() {
        assert_eq!(effective(None, None), 0);
        assert_eq!(effective(Some("1"), None), 1);
        assert_eq!(effective(None, Some("1")), 1);
        assert_eq!(effective(Some("2"), Some("1")), 2);
        assert_eq!(effective(Some("x"), Some("3")), 3);
        assert_eq!(effective(Some("x"), Some("y")), 0);
    }
}
