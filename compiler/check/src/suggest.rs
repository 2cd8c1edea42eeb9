//! "Did you mean" by edit distance.

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            // A difference of case alone is the likeliest typo of all.
            let d = if c.to_lowercase() == lower { 0 } else { strsim::osa_distance(name, c) };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        let fields = ["email", "email_verified", "name", "nickname"];
        assert_eq!(did_you_mean("emial", fields).as_deref(), Some("email"));
        assert_eq!(did_you_mean("email_verifed", fields).as_deref(), Some("email_verified"));
        assert_eq!(did_you_mean("Email", fields).as_deref(), Some("email"));
        assert_eq!(did_you_mean("zzzzzz", fields), None);
    }
}
