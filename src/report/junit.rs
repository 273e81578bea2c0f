//! JUnit XML (`--format junit`), for CI test dashboards (GitLab, Azure
//! DevOps, Jenkins): one test suite per scanned domain and one for the
//! targets off the path, one test case per rule × target. Failures are
//! failures, errors are errors, not-applicable rules, rules not run and
//! suppressed findings are skipped with the reason. Written by `quick-junit`,
//! which escapes XML; values first go through [`escape_xml`], which keeps
//! control characters visible where the XML writer would drop them.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use super::discovery::DomainIndex;
use crate::findings::{Finding, Status};
use crate::text::escape_xml;

fn case(finding: &Finding) -> TestCase {
    let target = finding.target.as_ref().map(|t| t.to_string());
    let name = match &target {
        Some(target) => format!("{} {}", finding.rule, escape_xml(target)),
        None => finding.rule.clone(),
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

pub fn render(report: &Report) -> String {
    let index = DomainIndex::new(&report.discovery);
    let mut suites: Vec<TestSuite> =
        report.discovery.iter().map(|d| TestSuite::new(escape_xml(&d.domain).into_owned())).collect();
    let mut rest = TestSuite::new("configuration, certificate files and rules not run");
    for finding in &report.findings {
        match index.of(finding) {
            Some(i) => suites[i].add_test_case(case(finding)),
            None => rest.add_test_case(case(finding)),
        };
    }
    // A part of a batch judged as such fails the report in a case of its own.
    if let Some(partial) = &report.summary.partial {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(escape_xml(&format!("only part of the batch was judged: {partial}"))).set_type("partial");
        let mut case = TestCase::new("partial report", status);
        case.set_classname("fedscan.merge");
        rest.add_test_case(case);
    }
    let mut junit = JunitReport::new("fedscan");
    junit.add_test_suites(suites.into_iter().filter(|s| !s.test_cases.is_empty()));
    if !rest.test_cases.is_empty() {
        junit.add_test_suite(rest);
    }
    junit.to_string().unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
}
