//! GitLab offset pagination: `page`/`per_page` (max 100) and the `x-*` and `Link` headers.

use std::ops::Range;

/// The most items GitLab counts for `x-total` (`Gitlab::Pagination::OffsetHeaderBuilder`).
const MAX_COUNTED: usize = 10_000;

/// One page of a list of `total` items.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub page: usize,
    pub per_page: usize,
    pub total: usize,
    pub total_pages: usize,
}

impl Page {
    /// GitLab's defaults and clamps: page ≥ 1, per_page 20 by default, at most 100; garbage
    /// values fall back to the defaults.
    pub fn new(page: Option<&str>, per_page: Option<&str>, total: usize) -> Page {
        let page = page
            .and_then(|p| p.trim().parse::<usize>().ok())
            .filter(|&p| p >= 1)
            .unwrap_or(1);
        let per_page = per_page
            .and_then(|p| p.trim().parse::<usize>().ok())
            .filter(|&p| p >= 1)
            .map_or(20, |p| p.min(100));
        let total_pages = total.div_ceil(per_page).max(1);
        Page {
            page,
            per_page,
            total,
            total_pages,
        }
    }

    pub fn range(&self) -> Range<usize> {
        let start = (self.page - 1)
            .saturating_mul(self.per_page)
            .min(self.total);
        let end = (start + self.per_page).min(self.total);
        start..end
    }

    fn next(&self) -> Option<usize> {
        (self.page < self.total_pages).then_some(self.page + 1)
    }

    fn prev(&self) -> Option<usize> {
        (self.page > 1).then(|| (self.page - 1).min(self.total_pages))
    }

    /// The pagination headers. `base` is `http://host/path`, `query` the request's other
    /// parameters (without `page`/`per_page`) in their original order.
    pub fn headers(&self, base: &str, query: &[(String, String)]) -> Vec<(&'static str, String)> {
        let url = |page: usize| {
            let mut parts: Vec<String> = query
                .iter()
                .filter(|(k, _)| k != "page" && k != "per_page")
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect();
            parts.push(format!("page={page}"));
            parts.push(format!("per_page={}", self.per_page));
            format!("{base}?{}", parts.join("&"))
        };
        let mut links = Vec::new();
        if let Some(p) = self.prev() {
            links.push(format!("<{}>; rel=\"prev\"", url(p)));
        }
        if let Some(n) = self.next() {
            links.push(format!("<{}>; rel=\"next\"", url(n)));
        }
        links.push(format!("<{}>; rel=\"first\"", url(1)));
        // Above 10,000 items GitLab counts no further: no total, no page count, no last page.
        let counted = self.total <= MAX_COUNTED;
        if counted {
            links.push(format!("<{}>; rel=\"last\"", url(self.total_pages)));
        }
        let mut h = vec![
            ("x-page", self.page.to_string()),
            ("x-per-page", self.per_page.to_string()),
            (
                "x-next-page",
                self.next().map_or(String::new(), |n| n.to_string()),
            ),
            (
                "x-prev-page",
                self.prev().map_or(String::new(), |p| p.to_string()),
            ),
            ("link", links.join(", ")),
        ];
        if counted {
            h.push(("x-total", self.total.to_string()));
            h.push(("x-total-pages", self.total_pages.to_string()));
        }
        h
    }
}

fn enc(s: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    const KEEP: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'[')
        .remove(b']');
    utf8_percent_encode(s, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(h: &'a [(&str, String)], name: &str) -> &'a str {
        h.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    #[test]
    fn defaults_and_clamps() {
        let p = Page::new(None, None, 45);
        assert_eq!((p.page, p.per_page, p.total_pages), (1, 20, 3));
        assert_eq!(Page::new(Some("0"), Some("1000"), 5).per_page, 100);
        assert_eq!(Page::new(Some("x"), Some("-3"), 5).page, 1);
        assert_eq!(Page::new(None, None, 0).total_pages, 1);
        assert_eq!(Page::new(Some("9"), None, 10).range(), 10..10);
    }

    #[test]
    fn middle_page_links_both_ways() {
        let p = Page::new(Some("2"), Some("10"), 25);
        assert_eq!(p.range(), 10..20);
        let q = vec![
            ("state".to_string(), "opened".to_string()),
            ("page".to_string(), "2".to_string()),
            ("iids[]".to_string(), "1".to_string()),
        ];
        let h = p.headers("http://127.0.0.1:9/api/v4/projects/1/merge_requests", &q);
        assert_eq!(header(&h, "x-next-page"), "3");
        assert_eq!(header(&h, "x-prev-page"), "1");
        assert_eq!(header(&h, "x-total"), "25");
        assert_eq!(header(&h, "x-total-pages"), "3");
        let link = header(&h, "link");
        assert!(link.contains(
            "<http://127.0.0.1:9/api/v4/projects/1/merge_requests?state=opened&iids[]=1&page=3&per_page=10>; rel=\"next\""
        ));
        assert!(link.contains("page=1&per_page=10>; rel=\"prev\""));
        assert!(
            link.contains("rel=\"first\"") && link.contains("page=3&per_page=10>; rel=\"last\"")
        );
    }

    /// GitLab leaves out the counts of a list of more than 10,000 items; the next page is
    /// still linked.
    #[test]
    fn a_list_above_ten_thousand_has_no_total() {
        let h = Page::new(Some("2"), Some("100"), 10_001).headers("http://h/x", &[]);
        assert!(
            !h.iter()
                .any(|(k, _)| *k == "x-total" || *k == "x-total-pages")
        );
        assert_eq!(header(&h, "x-next-page"), "3");
        let link = header(&h, "link");
        assert!(link.contains("rel=\"next\"") && !link.contains("rel=\"last\""));
        let h = Page::new(None, None, 10_000).headers("http://h/x", &[]);
        assert_eq!(header(&h, "x-total"), "10000");
    }

    #[test]
    fn last_page_has_empty_next_and_no_next_link() {
        let p = Page::new(Some("3"), Some("10"), 25);
        assert_eq!(p.range(), 20..25);
        let h = p.headers("http://h/x", &[]);
        assert_eq!(header(&h, "x-next-page"), "");
        assert!(!header(&h, "link").contains("rel=\"next\""));
    }
}
