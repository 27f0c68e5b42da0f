//! The recording bucket on S3 (feature `s3`): one ListObjectsV2 per candidate prefix.

use async_trait::async_trait;
use kit::sdk::classify_sdk_error;

use crate::ports::{ArchiveError, RecordingArchive};

pub struct S3RecordingArchive {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3RecordingArchive {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

#[async_trait]
impl RecordingArchive for S3RecordingArchive {
    async fn find(&self, prefixes: &[String]) -> Result<Option<String>, ArchiveError> {
        for prefix in prefixes {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .max_keys(1)
                .send()
                .await
                .map_err(|e| ArchiveError::Sdk(classify_sdk_error(&e)))?;
            if let Some(key) = out.contents().iter().find_map(|o| o.key()) {
                return Ok(Some(key.to_owned()));
            }
        }
        Ok(None)
    }
}
