//! A function without a scenario: its sample event, replayed as it is. The table
//! says so, since after the first invocation that is usually the duplicate path.

use async_trait::async_trait;
use serde_json::Value;

use super::{http_tally, sqs, Check, Env, Scenario, Tally};

pub struct AsIs {
    file: String,
    event: Value,
    source: Option<sqs::Source>,
}

impl AsIs {
    pub fn new(env: &Env<'_>, binary: &str) -> anyhow::Result<Self> {
        let dir = env.workspace.join("events").join(binary);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().filter_map(|e| e.file_name().to_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        files.sort();
        let file = files
            .iter()
            .find(|f| *f == "sqs-batch.json")
            .or_else(|| files.iter().find(|f| f.ends_with(".json")))
            .cloned();
        let Some(file) = file else {
            return Ok(Self { file: "no sample: `{}`".into(), event: Value::Object(Default::default()), source: None });
        };
        let event = env.sample(binary, &file)?;
        let source = if file == "sqs-batch.json" { Some(env.source(binary)?) } else { None };
        Ok(Self { file, event, source })
    }
}

#[async_trait]
impl Scenario for AsIs {
    fn path(&self) -> String {
        format!("no scenario: `{}` as it is (after the first run, likely the duplicate or a refusal path)", self.file)
    }

    fn sizes(&self) -> &'static [usize] {
        if self.source.is_some() {
            &[1, 10]
        } else {
            &[1]
        }
    }

    fn check(&self) -> Check {
        if self.source.is_some() {
            Check::RecordLogs
        } else {
            Check::Answer
        }
    }

    async fn prepare(&mut self, k: usize) -> anyhow::Result<Value> {
        let Some(source) = &self.source else { return Ok(self.event.clone()) };
        let bodies: Vec<String> = self.event["Records"]
            .as_array()
            .map(|r| r.iter().filter_map(|r| r["body"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        Ok(source.event(bodies.iter().cycle().take(k).cloned()))
    }

    fn tally(&self, answer: &Result<Value, Value>, _k: usize) -> Tally {
        match answer {
            Ok(v) if v.get("statusCode").is_some() => http_tally(answer, false),
            Ok(_) => Tally { done: 1, ..Tally::default() },
            Err(_) => Tally { failed: 1, ..Tally::default() },
        }
    }
}
