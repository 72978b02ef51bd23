//! Prometheus as the metrics engine: points go out through its remote-write protocol
//! (protobuf, snappy-compressed) and bucket means come back from PromQL `query_range`, with
//! the labels the embedded store keeps.

use std::collections::BTreeMap;
use std::time::Duration;

use ocp_store::NewSample;
use serde::Deserialize;

use crate::error::Failure;

/// Where the Prometheus is and how to sign in to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrometheusConfig {
    /// Its base URL, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    pub basic_auth: Option<(String, String)>,
    pub bearer_token: Option<String>,
}

/// The remote-write messages (prometheus/prompb's `WriteRequest` and what it holds).
mod prompb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(double, tag = "1")]
        pub value: f64,
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }
}

/// A client of one Prometheus.
pub struct Prometheus {
    config: PrometheusConfig,
    http: reqwest::Client,
}

/// One series of a query's answer: its labels (the metric's name left out) and points.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(i64, f64)>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<MatrixData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct MatrixData {
    result: Vec<MatrixSeries>,
}

#[derive(Deserialize)]
struct MatrixSeries {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct NamesEnvelope {
    #[serde(default)]
    data: Vec<String>,
}

/// The most points Prometheus answers per series of a range query.
const MAX_POINTS: i64 = 11_000;

/// A label value inside a PromQL string literal.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The selector of `metric`'s series whose labels equal `labels`.
pub fn selector(metric: &str, labels: &[(String, String)]) -> String {
    let matchers: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", quoted(v)))
        .collect();
    format!("{metric}{{{}}}", matchers.join(","))
}

impl Prometheus {
    pub fn new(config: PrometheusConfig) -> anyhow::Result<Self> {
        let url = config.url.trim_end_matches('/').to_string();
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "the Prometheus URL {url:?} is not http:// or https://"
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            config: PrometheusConfig { url, ..config },
            http,
        })
    }

    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match (&self.config.basic_auth, &self.config.bearer_token) {
            (Some((user, password)), _) => request.basic_auth(user, Some(password)),
            (None, Some(token)) => request.bearer_auth(token),
            (None, None) => request,
        }
    }

    fn unreachable(&self, what: impl std::fmt::Display) -> Failure {
        Failure::new(
            ocp_api::ErrorCode::MetricsUnavailable,
            format!("Prometheus at {}: {what}", self.config.url),
        )
    }

    /// Sends the points by remote write. Answers when Prometheus has taken them (so an
    /// agent whose batch fails sends it again). A sample Prometheus refuses for good (out
    /// of order, older than its head) is dropped with a warning, as its own remote-write
    /// senders do: resending it would never succeed.
    pub async fn write(&self, samples: &[NewSample]) -> Result<u64, Failure> {
        if samples.is_empty() {
            return Ok(0);
        }
        let mut series: BTreeMap<(&str, &str), Vec<prompb::Sample>> = BTreeMap::new();
        for s in samples {
            series
                .entry((s.metric.as_str(), s.labels.as_str()))
                .or_default()
                .push(prompb::Sample {
                    value: s.value,
                    timestamp: s.ts * 1000,
                });
        }
        let mut request = prompb::WriteRequest::default();
        for ((metric, labels), mut points) in series {
            let labels: BTreeMap<String, String> =
                serde_json::from_str(labels).map_err(Failure::internal)?;
            let mut all = vec![prompb::Label {
                name: "__name__".into(),
                value: metric.to_string(),
            }];
            all.extend(
                labels
                    .into_iter()
                    .map(|(name, value)| prompb::Label { name, value }),
            );
            all.sort_by(|a, b| a.name.cmp(&b.name));
            points.sort_by_key(|p| p.timestamp);
            request.timeseries.push(prompb::TimeSeries {
                labels: all,
                samples: points,
            });
        }
        let body = snap::raw::Encoder::new()
            .compress_vec(&prost::Message::encode_to_vec(&request))
            .map_err(Failure::internal)?;
        let reply = self
            .authed(self.http.post(format!("{}/api/v1/write", self.config.url)))
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = reply.status();
        if status.is_success() {
            return Ok(samples.len() as u64);
        }
        let text = reply.text().await.unwrap_or_default();
        if status == reqwest::StatusCode::BAD_REQUEST {
            tracing::warn!(
                "Prometheus refused some of {} points for good: {}",
                samples.len(),
                text.trim()
            );
            return Ok(0);
        }
        Err(self.unreachable(format!("remote write answered {status}: {}", text.trim())))
    }

    /// Runs a PromQL range query and answers its matrix.
    pub async fn query_range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Answered>, Failure> {
        let reply = self
            .authed(
                self.http
                    .post(format!("{}/api/v1/query_range", self.config.url)),
            )
            .form(&[
                ("query", query.to_string()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("step", step.to_string()),
            ])
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = reply.status();
        let envelope: Envelope = reply
            .json()
            .await
            .map_err(|e| self.unreachable(format!("answered {status}: {e}")))?;
        if envelope.status != "success" {
            return Err(self.unreachable(format!(
                "query {query:?} failed: {}",
                envelope.error.unwrap_or_default()
            )));
        }
        Ok(envelope
            .data
            .map(|d| d.result)
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                let mut labels = s.metric;
                labels.remove("__name__");
                let points = s
                    .values
                    .into_iter()
                    .filter_map(|(t, v)| Some((t as i64, v.parse::<f64>().ok()?)))
                    .filter(|(_, v)| v.is_finite())
                    .collect();
                Answered { labels, points }
            })
            .collect())
    }

    /// Per series of `metric` whose labels equal `labels`, the mean of its points in each
    /// `step` bucket of `start..=end` (a bucket from a multiple of `step`), as the embedded
    /// store answers. `avg_over_time` over `(t - step, t]` evaluated at the bucket's last
    /// second covers the bucket's whole seconds.
    pub async fn bucket_means(
        &self,
        metric: &str,
        labels: &[(String, String)],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Answered>, Failure> {
        let step = step.max(1);
        let mut first = start - start.rem_euclid(step);
        let last = end - end.rem_euclid(step);
        // Prometheus answers at most 11,000 points a series: a longer raw range keeps its
        // latest part.
        first = first.max(last - (MAX_POINTS - 1) * step);
        let query = format!("avg_over_time({}[{step}s])", selector(metric, labels));
        let mut answered = self
            .query_range(&query, first + step - 1, last + step - 1, step)
            .await?;
        for series in &mut answered {
            for point in &mut series.points {
                point.0 -= step - 1;
            }
        }
        Ok(answered)
    }

    /// Whether Prometheus has any series of `metric`.
    pub async fn knows(&self, metric: &str) -> Result<bool, Failure> {
        let reply = self
            .authed(
                self.http
                    .get(format!("{}/api/v1/label/__name__/values", self.config.url)),
            )
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let names: NamesEnvelope = reply.json().await.map_err(|e| self.unreachable(e))?;
        Ok(names.data.iter().any(|n| n == metric))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_quote_label_values() {
        assert_eq!(selector("host_load1", &[]), "host_load1{}");
        assert_eq!(
            selector(
                "host_load1",
                &[
                    ("svr_ip".into(), "10.0.0.1".into()),
                    ("mount".into(), r#"/a"b\"#.into())
                ]
            ),
            r#"host_load1{svr_ip="10.0.0.1",mount="/a\"b\\"}"#
        );
    }

    #[test]
    fn a_write_request_is_protobuf() {
        let request = prompb::WriteRequest {
            timeseries: vec![prompb::TimeSeries {
                labels: vec![prompb::Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![prompb::Sample {
                    value: 1.0,
                    timestamp: 1000,
                }],
            }],
        };
        let bytes = prost::Message::encode_to_vec(&request);
        // Field 1 (timeseries), length-delimited; inside, field 1 (labels).
        assert_eq!(bytes[0], 0x0a);
        assert_eq!(bytes[2], 0x0a);
        let back: prompb::WriteRequest = prost::Message::decode(bytes.as_slice()).unwrap();
        assert_eq!(back, request);
    }
}
