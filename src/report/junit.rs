//! JUnit XML (`--format junit`), for CI test dashboards (GitLab, Azure
//! DevOps, Jenkins): one test suite per scanned domain and one for the
//! targets off the path, one test case per rule × target. Failures are
//! failures, errors are errors, not-applicable rules, rules not run and
//! suppressed findings are skipped with the reason. Written by `quick-junit`,
//! which escapes XML; values first go through [`escape_xml`], which keeps
//! control characters visible where the XML writer would drop them.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use std::io::Write;

use super::Report;
use super::discovery::{DomainDiscovery, DomainIndex};
use crate::findings::{Finding, Status};
use crate::text::escape_xml;

fn case(finding: &Finding) -> TestCase {
    let target = finding.target.as_ref().map(|t| t.to_string());
    let name = match &target {
        Some(target) => format!("{} {}", finding.rule, escape_xml(target)),
        None => finding.rule.to_string(),
    };
    // The line break before the fix is the report's own; the values are
    // escaped apart, so that one of theirs cannot start a line.
    let details = |with_fix: bool| {
        let mut text = format!("{}: {}", escape_xml(&finding.title), escape_xml(&finding.message));
        if with_fix {
            text.push_str(&format!("\nFix: {}", escape_xml(&finding.remediation)));
        }
        text
    };
    let status = if let Some(suppressed) = &finding.suppressed {
        let mut status = TestCaseStatus::skipped();
        let until = suppressed.expires.as_ref().map(|d| format!(" until {d}")).unwrap_or_default();
        status.set_message(escape_xml(&format!(
            "suppressed{until} ({}:{}): {}",
            suppressed.file, suppressed.line, suppressed.reason
        )));
        status.set_description(details(finding.status == Status::Fail));
        status
    } else {
        match finding.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(escape_xml(&finding.message)).set_type(finding.severity.name());
                status.set_description(details(true));
                status
            }
            Status::Error => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(escape_xml(&finding.message)).set_type("could not be checked");
                status.set_description(details(false));
                status
            }
            Status::Skip => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(escape_xml(&finding.message));
                status
            }
        }
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(format!("fedscan.{}", finding.rule));
    case
}

/// The suites of `findings` (in the report's order): one per domain of
/// `discovery` its targets belong to, in that order, then the rest.
fn suites<'f>(
    discovery: &[DomainDiscovery],
    findings: impl Iterator<Item = &'f Finding>,
) -> (Vec<TestSuite>, TestSuite) {
    let index = DomainIndex::new(discovery);
    let mut suites: Vec<TestSuite> =
        discovery.iter().map(|d| TestSuite::new(escape_xml(&d.domain).into_owned())).collect();
    let mut rest = TestSuite::new("configuration, certificate files and rules not run");
    for finding in findings {
        match index.of(finding) {
            Some(i) => suites[i].add_test_case(case(finding)),
            None => rest.add_test_case(case(finding)),
        };
    }
    (suites, rest)
}

/// The report's last suite: the findings of no domain, and a part of a
/// batch judged as such, which fails the report in a case of its own.
fn with_partial(mut rest: TestSuite, report: &Report) -> TestSuite {
    if let Some(partial) = &report.summary.partial {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(escape_xml(&format!("only part of the batch was judged: {partial}"))).set_type("partial");
        let mut case = TestCase::new("partial report", status);
        case.set_classname("fedscan.merge");
        rest.add_test_case(case);
    }
    rest
}

pub fn render(report: &Report) -> String {
    let (suites, rest) = suites(report.discovery.held(), report.findings.iter());
    let rest = with_partial(rest, report);
    let mut junit = JunitReport::new("fedscan");
    junit.add_test_suites(suites.into_iter().filter(|s| !s.test_cases.is_empty()));
    if !rest.test_cases.is_empty() {
        junit.add_test_suite(rest);
    }
    junit.to_string().unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
}

/// A batch's JUnit report kept on disk as it is judged: each domain's
/// suite, rendered when its chunk is (every finding about a domain and its
/// Edges is its chunk's), and the counts of all of them; the findings of
/// no domain (rules not run, mostly) are few and kept.
#[derive(Debug)]
pub struct SpilledSuites {
    /// Each domain's suite.
    suites: super::spill::Shelf,
    totals: JunitReport,
    rest: Vec<Finding>,
}

impl SpilledSuites {
    pub fn new() -> std::io::Result<SpilledSuites> {
        Ok(SpilledSuites {
            suites: super::spill::Shelf::on_disk()?,
            totals: JunitReport::new("fedscan"),
            rest: Vec::new(),
        })
    }

    /// A chunk's findings (in any order) and its domains' discovery.
    pub fn add_chunk(&mut self, mut findings: Vec<Finding>, discovery: &[DomainDiscovery]) -> std::io::Result<()> {
        crate::engine::evaluate::order(&mut findings);
        let index = DomainIndex::new(discovery);
        let (of_domains, rest): (Vec<Finding>, Vec<Finding>) =
            findings.into_iter().partition(|f| index.of(f).is_some());
        self.rest.extend(rest);
        let (suites, _) = suites(discovery, of_domains.iter());
        for (domain, suite) in discovery.iter().zip(suites).filter(|(_, s)| !s.test_cases.is_empty()) {
            self.suites.put(&domain.domain, suite_text(&suite).as_bytes())?;
            // Only the counts are kept.
            self.totals.add_test_suite(suite);
            self.totals.test_suites.clear();
        }
        Ok(())
    }

    /// The findings of the scan as a whole, which belong to no chunk.
    pub fn add_rest(&mut self, findings: Vec<Finding>) {
        self.rest.extend(findings);
    }

    /// The report: the domains' suites in the report's order, then the rest.
    pub fn write(&mut self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        crate::engine::evaluate::order(&mut self.rest);
        let rest = with_partial(suites(&[], self.rest.iter()).1, report);
        // The counts of every domain's suite (the report holds no suite).
        let mut totals = self.totals.clone();
        let rest_text = (!rest.test_cases.is_empty()).then(|| suite_text(&rest));
        if rest_text.is_some() {
            totals.add_test_suite(rest);
            totals.test_suites.clear();
        }
        // The document without suites: its root's start tag, then its end.
        let empty = totals.to_string().map_err(std::io::Error::other)?;
        let Some(head) = empty.strip_suffix("\n</testsuites>\n") else {
            return Err(std::io::Error::other("an unexpected JUnit document"));
        };
        out.write_all(head.as_bytes())?;
        for domain in report.discovery.domains() {
            if let Some(text) = self.suites.get(domain)? {
                out.write_all(&text)?;
            }
        }
        if let Some(text) = rest_text {
            out.write_all(text.as_bytes())?;
        }
        out.write_all(b"\n</testsuites>\n")
    }
}

/// One suite's element as the report shows it, from the line break before
/// it to its end tag.
fn suite_text(suite: &TestSuite) -> String {
    let mut alone = JunitReport::new("fedscan");
    alone.add_test_suite(suite.clone());
    let text = alone.to_string().unwrap_or_default();
    let start = text.find("<testsuites").and_then(|at| text[at..].find('>').map(|end| at + end + 1)).unwrap_or(0);
    let end = text.rfind("\n</testsuites>").unwrap_or(text.len());
    text[start..end].to_string()
}
