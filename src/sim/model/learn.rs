//! A shadow's catalogue, learned from the target: the regions, zones, instance types (with
//! their vCPUs, memory, architecture) and images (OS, size) that the target's catalogue answers
//! name are added to the world's catalogue (`catalog_ext`), so whatever the target reported
//! exists in the shadow and a plan against Alibaba Cloud can use a zone, type or image the
//! embedded catalogue lacks.
//!
//! The input is an answer of a registered catalogue read (its JSON, as the target gave it),
//! never a request: the model stays free of HTTP. What an answer does not say is kept from the
//! embedded catalogue where the entry is there, and otherwise left open (a learned type takes
//! any disk category; the target decides at run time).

use super::super::catalog::{Catalog, Image, InstanceType, Region, Zone};
use super::super::catalog_ext::Extension;
use super::World;
use crate::ops::{Action, A};
use serde_json::Value;
use std::collections::BTreeMap;

impl World {
    /// Learns from the target's answer to a catalogue read of `region` (`None` for
    /// DescribeRegions). Returns the instance types the answer offers that the catalogue has no
    /// details of (vCPUs, memory), for the caller to read with DescribeInstanceTypes.
    pub fn learn_catalogue(
        &mut self,
        action: &Action,
        region: Option<&str>,
        answer: &Value,
    ) -> Vec<String> {
        let region = region.unwrap_or_default();
        let ext = if action.is(&A::DESCRIBE_AVAILABLE_RESOURCE) {
            zones_of_stock(region, answer)
        } else if action.is(&A::DESCRIBE_ZONES) {
            zones_of_zones(self.catalog, region, answer)
        } else if action.is(&A::DESCRIBE_INSTANCE_TYPES) {
            types_of(self.catalog, answer)
        } else if action.is(&A::DESCRIBE_IMAGES) {
            images_of(answer)
        } else if action.is(&A::DESCRIBE_REGIONS) {
            regions_of(answer)
        } else {
            Extension::default()
        };
        if !ext.is_empty() {
            self.extend_catalogue(&ext);
        }
        self.types_without_details()
    }

    /// Types some zone offers that the catalogue has no entry for.
    fn types_without_details(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for region in &self.catalog.regions {
            for zone in &region.zones {
                for t in &zone.instance_types {
                    if self.catalog.instance_type(t).is_none() && !out.contains(t) {
                        out.push(t.clone());
                    }
                }
            }
        }
        out
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn list<'a>(v: &'a Value, path: &str) -> impl Iterator<Item = &'a Value> {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_array()
        .into_iter()
        .flatten()
}

fn region_with(region: &str, zones: Vec<Zone>) -> Extension {
    if region.is_empty() || zones.is_empty() {
        return Extension::default();
    }
    Extension {
        regions: vec![Region {
            region_id: region.to_string(),
            local_name: String::new(),
            local_name_en: String::new(),
            region_endpoint: String::new(),
            vpc_endpoint: String::new(),
            zones,
        }],
        ..Extension::default()
    }
}

fn zone(id: String, instance_types: Vec<String>, sold_out: Vec<String>) -> Zone {
    Zone {
        zone_id: id,
        local_name: String::new(),
        local_name_en: String::new(),
        instance_types,
        sold_out,
        limited: BTreeMap::new(),
        on_sale: true,
    }
}

/// DescribeAvailableResource (instance types): each zone with the types it sells, and which
/// of them the target has sold out (its status wins over the embedded catalogue's).
fn zones_of_stock(region: &str, answer: &Value) -> Extension {
    let mut zones = Vec::new();
    for z in list(answer, "AvailableZones.AvailableZone") {
        let id = text(z, "ZoneId");
        if id.is_empty() {
            continue;
        }
        let (mut offered, mut sold_out) = (Vec::new(), Vec::new());
        for r in list(z, "AvailableResources.AvailableResource") {
            let kind = r["Type"].as_str().unwrap_or("InstanceType");
            if kind != "InstanceType" {
                continue;
            }
            for s in list(r, "SupportedResources.SupportedResource") {
                let value = text(s, "Value");
                if value.is_empty() {
                    continue;
                }
                if s["Status"].as_str().is_some_and(|st| st != "Available") {
                    sold_out.push(value.clone());
                }
                offered.push(value);
            }
        }
        if !offered.is_empty() {
            zones.push(zone(id, offered, sold_out));
        }
    }
    region_with(region, zones)
}

/// DescribeZones: each zone with its names and the types it lists (stock is not in this
/// answer, so only types the zone lacks are added: their stock marks stay as they are).
fn zones_of_zones(catalog: &Catalog, region: &str, answer: &Value) -> Extension {
    let mut zones = Vec::new();
    for z in list(answer, "Zones.Zone") {
        let id = text(z, "ZoneId");
        if id.is_empty() {
            continue;
        }
        let have = catalog.zone(region, &id);
        let offered: Vec<String> = list(z, "AvailableInstanceTypes.InstanceTypes")
            .filter_map(Value::as_str)
            .filter(|t| have.map_or(true, |h| !h.instance_types.iter().any(|x| x == t)))
            .map(str::to_string)
            .collect();
        if have.is_some() && offered.is_empty() {
            continue;
        }
        let mut new = zone(id, offered, Vec::new());
        new.local_name = text(z, "LocalName");
        zones.push(new);
    }
    region_with(region, zones)
}

/// DescribeInstanceTypes: each type's shape; what the answer does not give (disk categories,
/// generation, launch date) is kept from an embedded entry, else left open.
fn types_of(catalog: &Catalog, answer: &Value) -> Extension {
    let mut types = Vec::new();
    for t in list(answer, "InstanceTypes.InstanceType") {
        let id = text(t, "InstanceTypeId");
        let cores = t["CpuCoreCount"].as_u64().unwrap_or(0) as u32;
        let memory = t["MemorySize"].as_f64().unwrap_or(0.0);
        if id.is_empty() || cores == 0 {
            continue;
        }
        let mut learned = catalog.instance_type(&id).cloned().unwrap_or(InstanceType {
            id: id.clone(),
            family: String::new(),
            generation: String::new(),
            cores,
            memory,
            gpu_amount: 0,
            gpu_spec: String::new(),
            gpu_memory: 0.0,
            level: "EnterpriseLevel".into(),
            arch: "X86".into(),
            processor: String::new(),
            disk_categories: Vec::new(),
            launched: String::new(),
        });
        learned.cores = cores;
        learned.memory = memory;
        let family = text(t, "InstanceTypeFamily");
        if !family.is_empty() {
            learned.family = family;
        }
        learned.gpu_amount = t["GPUAmount"].as_u64().unwrap_or(0) as u32;
        learned.gpu_spec = text(t, "GPUSpec");
        learned.gpu_memory = t["GPUMemorySize"].as_f64().unwrap_or(0.0);
        for (field, key) in [
            (&mut learned.level, "InstanceFamilyLevel"),
            (&mut learned.arch, "CpuArchitecture"),
            (&mut learned.processor, "PhysicalProcessorModel"),
        ] {
            let value = text(t, key);
            if !value.is_empty() {
                *field = value;
            }
        }
        types.push(learned);
    }
    Extension {
        instance_types: types,
        ..Extension::default()
    }
}

/// DescribeImages: each image as the target describes it.
fn images_of(answer: &Value) -> Extension {
    let images = list(answer, "Images.Image")
        .filter_map(|i| {
            let id = text(i, "ImageId");
            if id.is_empty() {
                return None;
            }
            let architecture = match text(i, "Architecture").as_str() {
                "arm64" | "aarch64" => "arm64",
                _ => "x86_64",
            };
            Some(Image {
                image_name: Some(text(i, "ImageName"))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| id.clone()),
                image_id: id,
                image_family: text(i, "ImageFamily"),
                image_version: text(i, "ImageVersion"),
                os_name: text(i, "OSName"),
                os_name_en: text(i, "OSNameEn"),
                os_type: Some(text(i, "OSType"))
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "linux".into()),
                platform: text(i, "Platform"),
                architecture: architecture.into(),
                size: i["Size"].as_u64().unwrap_or(0) as u32,
                creation_time: text(i, "CreationTime"),
            })
        })
        .collect();
    Extension {
        images,
        ..Extension::default()
    }
}

/// DescribeRegions: each region with its names and endpoint (its zones come with its first
/// zone or stock answer).
fn regions_of(answer: &Value) -> Extension {
    let regions = list(answer, "Regions.Region")
        .filter_map(|r| {
            let id = text(r, "RegionId");
            (!id.is_empty()).then(|| Region {
                local_name: text(r, "LocalName"),
                local_name_en: text(r, "LocalName"),
                region_endpoint: text(r, "RegionEndpoint"),
                vpc_endpoint: String::new(),
                zones: Vec::new(),
                region_id: id,
            })
        })
        .collect();
    Extension {
        regions,
        ..Extension::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::catalog::Stock;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stock_answer_teaches_zones_types_and_the_targets_sold_out_marks() {
        let mut w = World::default();
        assert!(w.catalog().zone("cn-hangzhou", "cn-hangzhou-z").is_none());
        // The embedded catalogue has ecs.t6-c1m2.large sold out in cn-hangzhou-h; the target
        // has it, sells a type of its own in a zone of its own, and has ecs.g7.xlarge sold out.
        let stock = json!({ "AvailableZones": { "AvailableZone": [
            { "ZoneId": "cn-hangzhou-h", "AvailableResources": { "AvailableResource": [{
                "Type": "InstanceType", "SupportedResources": { "SupportedResource": [
                    { "Value": "ecs.t6-c1m2.large", "Status": "Available" },
                    { "Value": "ecs.g7.xlarge", "Status": "SoldOut" } ] } }] } },
            { "ZoneId": "cn-hangzhou-z", "AvailableResources": { "AvailableResource": [{
                "Type": "InstanceType", "SupportedResources": { "SupportedResource": [
                    { "Value": "ecs.g9z.large", "Status": "Available" } ] } }] } } ] } });
        let lacking =
            w.learn_catalogue(&A::DESCRIBE_AVAILABLE_RESOURCE, Some("cn-hangzhou"), &stock);
        assert_eq!(lacking, ["ecs.g9z.large"]);
        let c = w.catalog();
        assert_eq!(
            c.stock("cn-hangzhou", "cn-hangzhou-h", "ecs.t6-c1m2.large"),
            Stock::Plenty
        );
        assert_eq!(
            c.stock("cn-hangzhou", "cn-hangzhou-h", "ecs.g7.xlarge"),
            Stock::SoldOut
        );
        assert_eq!(
            c.zone("cn-hangzhou", "cn-hangzhou-z").unwrap().local_name,
            "cn-hangzhou-z"
        );
        // Its details, from DescribeInstanceTypes; an embedded type keeps its disk categories.
        let types = json!({ "InstanceTypes": { "InstanceType": [
            { "InstanceTypeId": "ecs.g9z.large", "InstanceTypeFamily": "ecs.g9z",
              "CpuCoreCount": 2, "MemorySize": 8.0, "CpuArchitecture": "ARM" },
            { "InstanceTypeId": "ecs.g7.large", "CpuCoreCount": 2, "MemorySize": 8.0 } ] } });
        let lacking = w.learn_catalogue(&A::DESCRIBE_INSTANCE_TYPES, Some("cn-hangzhou"), &types);
        assert!(lacking.is_empty(), "{lacking:?}");
        let c = w.catalog();
        let g9z = c.instance_type("ecs.g9z.large").unwrap();
        assert_eq!((g9z.cores, g9z.memory, g9z.image_arch()), (2, 8.0, "arm64"));
        assert!(
            g9z.takes_disk("cloud_auto"),
            "a learned type takes any category"
        );
        assert!(!c
            .instance_type("ecs.g7.large")
            .unwrap()
            .disk_categories
            .is_empty());
        // The same answer again changes nothing (nothing more is leaked).
        let before = w.catalog() as *const _;
        w.learn_catalogue(&A::DESCRIBE_INSTANCE_TYPES, Some("cn-hangzhou"), &types);
        assert!(std::ptr::eq(before, w.catalog()));
    }

    #[test]
    fn an_images_answer_makes_the_targets_image_the_familys_latest() {
        let mut w = World::default();
        let images = json!({ "Images": { "Image": [{
            "ImageId": "ubuntu_24_04_x64_20G_alibase_20261101.vhd", "ImageFamily": "acs:ubuntu_24_04_x64",
            "ImageVersion": "20261101", "OSType": "linux", "Architecture": "x86_64", "Size": 20 }] } });
        w.learn_catalogue(&A::DESCRIBE_IMAGES, Some("cn-hangzhou"), &images);
        let latest = w
            .catalog()
            .latest_in_family("acs:ubuntu_24_04_x64")
            .unwrap();
        assert_eq!(latest.image_id, "ubuntu_24_04_x64_20G_alibase_20261101.vhd");
        assert_eq!(latest.image_name, latest.image_id);
    }
}
