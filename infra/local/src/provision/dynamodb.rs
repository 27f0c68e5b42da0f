//! DynamoDB tables: keys, indexes, billing, streams and TTL, created once.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, StreamSpecification, StreamViewType, TableDescription,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;
use serde_json::Value;
use tracing::debug;

use super::{generated_name, is_true, PhysicalResource, ProvisionError};
use crate::template::{types, ResourceFacts, StackContext};

/// Creates the table unless it exists, then makes sure TTL is on where asked.
pub async fn ensure_table(
    client: &Client,
    id: &str,
    props: &Value,
    ctx: &StackContext,
) -> Result<PhysicalResource, ProvisionError> {
    let name = props.get("TableName").and_then(Value::as_str).map_or_else(|| generated_name(ctx, id), str::to_owned);

    let existing = client.describe_table().table_name(&name).send().await;
    let table = match existing {
        Ok(out) => {
            // Keys and indexes cannot be changed in place: an existing table is kept.
            debug!(table = %name, "table existed");
            out.table
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
            create_table(client, id, &name, props).await?
        }
        Err(err) => return Err(ProvisionError::aws(id, "DescribeTable")(err)),
    }
    .ok_or_else(|| ProvisionError::invalid(id, "the emulator returned no table description"))?;

    if let Some(ttl) = props.get("TimeToLiveSpecification") {
        ensure_ttl(client, id, &name, ttl).await?;
    }

    let arn = table.table_arn().map(str::to_owned);
    let stream_arn = table.latest_stream_arn().map(str::to_owned);
    let mut attributes = std::collections::BTreeMap::new();
    if let Some(arn) = &arn {
        attributes.insert("Arn".to_owned(), arn.clone());
    }
    if let Some(stream) = &stream_arn {
        attributes.insert("StreamArn".to_owned(), stream.clone());
    }
    Ok(PhysicalResource {
        logical_id: id.to_owned(),
        kind: types::DYNAMODB_TABLE.to_owned(),
        facts: ResourceFacts { reference: name.clone(), attributes },
        name,
        arn,
        url: None,
        stream_arn,
    })
}

async fn create_table(
    client: &Client,
    id: &str,
    name: &str,
    props: &Value,
) -> Result<Option<TableDescription>, ProvisionError> {
    let build = |what: &str| {
        let what = what.to_owned();
        move |e: aws_sdk_dynamodb::error::BuildError| ProvisionError::invalid(id, format!("{what}: {e}"))
    };
    let mut definitions = Vec::new();
    for def in list(props, "AttributeDefinitions") {
        definitions.push(
            AttributeDefinition::builder()
                .attribute_name(text(def, "AttributeName"))
                .attribute_type(ScalarAttributeType::from(text(def, "AttributeType").as_str()))
                .build()
                .map_err(build("AttributeDefinitions"))?,
        );
    }
    let provisioned = matches!(props.get("BillingMode").and_then(Value::as_str), None | Some("PROVISIONED"))
        && props.get("ProvisionedThroughput").is_some();
    let mut request = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(definitions))
        .set_key_schema(Some(key_schema(id, props.get("KeySchema"))?));
    request = if provisioned {
        request
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(throughput(id, props.get("ProvisionedThroughput"))?)
    } else {
        request.billing_mode(BillingMode::PayPerRequest)
    };
    for gsi in list(props, "GlobalSecondaryIndexes") {
        let mut index = GlobalSecondaryIndex::builder()
            .index_name(text(gsi, "IndexName"))
            .set_key_schema(Some(key_schema(id, gsi.get("KeySchema"))?))
            .projection(projection(gsi.get("Projection")));
        if provisioned {
            index = index.provisioned_throughput(throughput(id, gsi.get("ProvisionedThroughput"))?);
        }
        request = request.global_secondary_indexes(index.build().map_err(build("GlobalSecondaryIndexes"))?);
    }
    for lsi in list(props, "LocalSecondaryIndexes") {
        let index = LocalSecondaryIndex::builder()
            .index_name(text(lsi, "IndexName"))
            .set_key_schema(Some(key_schema(id, lsi.get("KeySchema"))?))
            .projection(projection(lsi.get("Projection")))
            .build()
            .map_err(build("LocalSecondaryIndexes"))?;
        request = request.local_secondary_indexes(index);
    }
    if let Some(view) = props.pointer("/StreamSpecification/StreamViewType").and_then(Value::as_str) {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view))
                .build()
                .map_err(build("StreamSpecification"))?,
        );
    }
    let out = request.send().await.map_err(ProvisionError::aws(id, "CreateTable"))?;
    Ok(out.table_description)
}

async fn ensure_ttl(client: &Client, id: &str, table: &str, ttl: &Value) -> Result<(), ProvisionError> {
    if !is_true(ttl.get("Enabled")) {
        return Ok(());
    }
    let attribute = text(ttl, "AttributeName");
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(ProvisionError::aws(id, "DescribeTimeToLive"))?;
    let already = current.time_to_live_description().is_some_and(|d| {
        d.time_to_live_status() == Some(&TimeToLiveStatus::Enabled) && d.attribute_name() == Some(attribute.as_str())
    });
    if already {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .map_err(|e| ProvisionError::invalid(id, format!("TimeToLiveSpecification: {e}")))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(ProvisionError::aws(id, "UpdateTimeToLive"))?;
    Ok(())
}

fn key_schema(id: &str, value: Option<&Value>) -> Result<Vec<KeySchemaElement>, ProvisionError> {
    value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName"))
                .key_type(KeyType::from(text(k, "KeyType").as_str()))
                .build()
                .map_err(|e| ProvisionError::invalid(id, format!("KeySchema: {e}")))
        })
        .collect()
}

fn projection(value: Option<&Value>) -> Projection {
    let kind = value.and_then(|p| p.get("ProjectionType")).and_then(Value::as_str).unwrap_or("ALL");
    let non_key: Option<Vec<String>> = value
        .and_then(|p| p.get("NonKeyAttributes"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect());
    Projection::builder().projection_type(ProjectionType::from(kind)).set_non_key_attributes(non_key).build()
}

fn throughput(id: &str, value: Option<&Value>) -> Result<ProvisionedThroughput, ProvisionError> {
    let units = |key: &str| {
        value
            .and_then(|v| v.get(key))
            .and_then(crate::template::as_u64)
            .and_then(|n| i64::try_from(n).ok())
            .unwrap_or(1)
    };
    ProvisionedThroughput::builder()
        .read_capacity_units(units("ReadCapacityUnits"))
        .write_capacity_units(units("WriteCapacityUnits"))
        .build()
        .map_err(|e| ProvisionError::invalid(id, format!("ProvisionedThroughput: {e}")))
}

fn list<'a>(props: &'a Value, key: &str) -> &'a [Value] {
    props.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn text(value: &Value, key: &str) -> String {
    value.get(key).and_then(crate::template::scalar_string).unwrap_or_default()
}
