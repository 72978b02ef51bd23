//! Templates: `${name}` is replaced by the variable's value; an unknown variable is left
//! as written, so a typo shows in the message instead of vanishing.

use std::collections::BTreeMap;

/// Renders `template`; with `json` the values are escaped for a JSON string.
pub fn render(template: &str, vars: &BTreeMap<String, String>, json: bool) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.get(name) {
                    Some(value) if json => {
                        let quoted = serde_json::to_string(value).unwrap_or_default();
                        out.push_str(&quoted[1..quoted.len() - 1]);
                    }
                    Some(value) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 3 + end]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_replaced_and_unknown_ones_kept() {
        let vars: BTreeMap<String, String> = [
            ("alarm_target".to_string(), "svr_ip=10.0.0.1".to_string()),
            ("alarm_name".to_string(), "say \"hi\"".to_string()),
        ]
        .into();
        assert_eq!(
            render("${alarm_target} ${alarm_name} ${nope} ${", &vars, false),
            "svr_ip=10.0.0.1 say \"hi\" ${nope} ${"
        );
        assert_eq!(
            render("{\"m\":\"${alarm_name}\"}", &vars, true),
            "{\"m\":\"say \\\"hi\\\"\"}"
        );
    }
}
