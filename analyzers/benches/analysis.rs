//! Throughput of the analyzers on real titles and names from the DBLP-ACM samples: MB/s for
//! title analysis (exact, and stemmed with language detection), names/s for the name parser.

use std::path::PathBuf;

use analyzers::{
    detect_language_with_whatlang, fold, name_analyzer, text_analyzer, text_stem_analyzer,
    PersonName,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

fn samples_dir() -> PathBuf {
    std::env::var_os("ATLAS_SAMPLES_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

/// Reads column `column` of both DBLP-ACM files.
fn dblp_acm_column(column: usize) -> Vec<String> {
    let mut values = Vec::new();
    for file in ["dblp-acm/dblp.csv", "dblp-acm/acm.csv"] {
        let mut reader = csv::Reader::from_path(samples_dir().join(file)).expect("sample file");
        for record in reader.records() {
            values.push(record.expect("csv record")[column].to_string());
        }
    }
    values
}

fn count_tokens(analyzer: &mut TextAnalyzer, values: &[String]) -> usize {
    let mut num_tokens = 0;
    for value in values {
        let mut stream = analyzer.token_stream(value);
        while stream.advance() {
            num_tokens += stream.token().text.len();
        }
    }
    num_tokens
}

fn title_analysis(criterion: &mut Criterion) {
    let titles = dblp_acm_column(1);
    let num_bytes: usize = titles.iter().map(String::len).sum();
    let mut group = criterion.benchmark_group("titles");
    group.throughput(Throughput::Bytes(num_bytes as u64));

    group.bench_function("fold", |bencher| {
        bencher.iter(|| {
            titles
                .iter()
                .map(|title| fold(black_box(title)).len())
                .sum::<usize>()
        })
    });
    let mut exact = text_analyzer();
    group.bench_function("atlas_text", |bencher| {
        bencher.iter(|| count_tokens(&mut exact, &titles))
    });
    let mut stemmed = text_stem_analyzer();
    group.bench_function("atlas_text_stem (with language detection)", |bencher| {
        bencher.iter(|| count_tokens(&mut stemmed, &titles))
    });
    group.sample_size(10);
    group.bench_function("whatlang alone on every title", |bencher| {
        bencher.iter(|| {
            titles
                .iter()
                .filter(|title| {
                    detect_language_with_whatlang(black_box(title))
                        .lang
                        .is_some()
                })
                .count()
        })
    });
    group.finish();
}

fn name_analysis(criterion: &mut Criterion) {
    let names: Vec<String> = dblp_acm_column(2)
        .iter()
        .flat_map(|authors| authors.split(", ").map(str::to_string).collect::<Vec<_>>())
        .filter(|name| !name.is_empty())
        .collect();
    let num_bytes: usize = names.iter().map(String::len).sum();

    let mut group = criterion.benchmark_group("names");
    group.throughput(Throughput::Elements(names.len() as u64));
    group.bench_function("PersonName::parse (names/s)", |bencher| {
        bencher.iter(|| {
            names
                .iter()
                .map(|name| PersonName::parse(black_box(name)).given.len())
                .sum::<usize>()
        })
    });
    group.bench_function("PersonName::parse + keys (names/s)", |bencher| {
        bencher.iter(|| {
            names
                .iter()
                .map(|name| PersonName::parse(black_box(name)).keys().surnames.len())
                .sum::<usize>()
        })
    });
    group.finish();

    let mut group = criterion.benchmark_group("names_bytes");
    group.throughput(Throughput::Bytes(num_bytes as u64));
    let mut analyzer = name_analyzer();
    group.bench_function("atlas_name", |bencher| {
        bencher.iter(|| count_tokens(&mut analyzer, &names))
    });
    group.finish();
}

criterion_group!(benches, title_analysis, name_analysis);
criterion_main!(benches);
