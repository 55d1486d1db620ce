//! Measurements on public benchmarks, each in a throwaway database: work grouping on
//! DBLP-ACM ([`dblp_acm`]), candidate retrieval and auto-confirmation on S2AND Qian
//! ([`s2and`]). Reports print as Markdown for `EVALUATION.md`.

pub mod dblp_acm;
pub mod s2and;

/// Precision, recall and F1 from counts; zero where undefined.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PrecisionRecall {
    /// True positives.
    pub num_true_positives: u64,
    /// Predicted positives.
    pub num_predicted: u64,
    /// Actual positives.
    pub num_actual: u64,
}

impl PrecisionRecall {
    /// Returns the share of predictions that are right.
    pub fn precision(&self) -> f64 {
        ratio(self.num_true_positives, self.num_predicted)
    }

    /// Returns the share of actual positives predicted.
    pub fn recall(&self) -> f64 {
        ratio(self.num_true_positives, self.num_actual)
    }

    /// Returns the harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (precision, recall) = (self.precision(), self.recall());
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }
}

/// Returns `numerator / denominator`, zero when the denominator is.
pub fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}
