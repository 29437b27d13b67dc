//! Estimated cost of a planning run from the tokens the provider reported.
//!
//! Gemini list prices (USD per million tokens, paid tier, prompts up to 200k tokens) as
//! published on ai.google.dev/gemini-api/docs/pricing, read 2026-10-07. Output prices include
//! thinking tokens. `[planner] price_input_per_mtok` / `price_output_per_mtok` override them
//! (other tiers, negotiated prices, or a self-hosted server's cost). Self-hosted models cost
//! nothing unless configured; the rules planner costs nothing.

use jiff::civil::Date;

use super::provider::Usage;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

/// The list price for a provider's model on a given day, when known.
pub fn list_price(provider: &str, model: &str, today: Date) -> Option<Pricing> {
    let p = |i, o| {
        Some(Pricing {
            input_per_mtok: i,
            output_per_mtok: o,
        })
    };
    match provider {
        "gemini" => {
            let m = model.trim_start_matches("models/");
            match m {
                // Introductory price through 2026-12-31, then doubled.
                "gemini-3.8-flash" if today <= jiff::civil::date(2026, 12, 31) => p(0.75, 3.75),
                "gemini-3.8-flash" => p(1.50, 7.50),
                "gemini-3.5-flash" => p(1.50, 9.00),
                "gemini-3.5-flash-lite" => p(0.30, 2.50),
                "gemini-3.1-pro-preview" => p(2.00, 12.00),
                _ => None,
            }
        }
        "openai" | "rules" => p(0.0, 0.0),
        _ => None,
    }
}

/// USD for the tokens used.
pub fn cost(usage: &Usage, price: &Pricing) -> f64 {
    (usage.prompt_tokens as f64 * price.input_per_mtok
        + (usage.output_tokens + usage.thinking_tokens) as f64 * price.output_per_mtok)
        / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_flash_price_changes_with_the_date() {
        let before = list_price("gemini", "gemini-3.8-flash", jiff::civil::date(2026, 11, 1));
        let after = list_price("gemini", "gemini-3.8-flash", jiff::civil::date(2027, 1, 1));
        assert_eq!(before.map(|p| p.input_per_mtok), Some(0.75));
        assert_eq!(after.map(|p| p.output_per_mtok), Some(7.50));
        assert_eq!(
            list_price("gemini", "unknown-model", jiff::civil::date(2026, 1, 1)),
            None
        );
    }

    #[test]
    fn thinking_is_billed_as_output() {
        let u = Usage {
            prompt_tokens: 20_000,
            output_tokens: 1_000,
            thinking_tokens: 3_000,
            total_tokens: 24_000,
            calls: 1,
        };
        let c = cost(
            &u,
            &Pricing {
                input_per_mtok: 0.75,
                output_per_mtok: 3.75,
            },
        );
        assert!((c - (0.015 + 0.015)).abs() < 1e-9, "{c}");
    }
}
