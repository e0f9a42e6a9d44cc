//! The simulator's embedded catalogue: regions and zones, instance types, prices, disk
//! categories, bandwidth prices, public images and which zone/type pairs are out of stock.
//!
//! The data lives in `catalog.json` (compiled into the binary with `include_str!`) so it can be
//! read and edited as data. This module only parses it and answers lookups; it holds no
//! mutable state and knows nothing of requests (stock *consumed* by instances is the model's
//! business, not the catalogue's).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const CATALOG_JSON: &str = include_str!("catalog.json");

/// The whole catalogue.
#[derive(Clone, Debug, Deserialize)]
pub struct Catalog {
    /// Currency of every price (`CNY`).
    pub currency: String,
    pub regions: Vec<Region>,
    pub instance_types: Vec<InstanceType>,
    /// region → instance type → prices.
    pub prices: BTreeMap<String, BTreeMap<String, TypePrice>>,
    pub disks: Vec<DiskCategory>,
    pub bandwidth: Bandwidth,
    pub images: Vec<Image>,
}

/// A region. Only `RegionId` is required, so a `--catalogue` file can add zones to a region
/// by its id alone (`catalog_ext` fills a new region's names and endpoints from its id).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Region {
    pub region_id: String,
    #[serde(default)]
    pub local_name: String,
    #[serde(default)]
    pub local_name_en: String,
    #[serde(default)]
    pub region_endpoint: String,
    #[serde(default)]
    pub vpc_endpoint: String,
    #[serde(rename = "zones", default)]
    pub zones: Vec<Zone>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Zone {
    pub zone_id: String,
    #[serde(default)]
    pub local_name: String,
    #[serde(default)]
    pub local_name_en: String,
    /// Instance types offered in this zone.
    #[serde(rename = "instance_types", default)]
    pub instance_types: Vec<String>,
    /// Offered but with no stock at all.
    #[serde(rename = "sold_out", default)]
    pub sold_out: Vec<String>,
    /// Offered with only this many instances' worth of stock.
    #[serde(rename = "limited", default)]
    pub limited: BTreeMap<String, u32>,
    /// False for a zone closed to new purchases (an old zone whose existing resources still
    /// run): strict mode answers `Zone.NotOnSale` to anything bought there.
    #[serde(rename = "on_sale", default = "on_sale")]
    pub on_sale: bool,
}

fn on_sale() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    pub id: String,
    pub family: String,
    pub generation: String,
    pub cores: u32,
    /// GiB.
    pub memory: f64,
    pub gpu_amount: u32,
    pub gpu_spec: String,
    pub gpu_memory: f64,
    /// EntryLevel | EnterpriseLevel | CreditEntryLevel.
    pub level: String,
    /// X86 | ARM.
    pub arch: String,
    pub processor: String,
    /// The disk categories it takes. Empty for a type a shadow learned from the target's
    /// DescribeInstanceTypes (which does not list them): any category, the target decides.
    pub disk_categories: Vec<String>,
    /// Launch date (`YYYY-MM-DD`), for NewProductFirst ordering.
    pub launched: String,
}

impl InstanceType {
    /// The image architecture this type boots (`x86_64` or `arm64`).
    pub fn image_arch(&self) -> &'static str {
        if self.arch == "ARM" {
            "arm64"
        } else {
            "x86_64"
        }
    }
    /// True if it takes disks of `category` (any category, for a learned type that does not
    /// say: the target decides).
    pub fn takes_disk(&self, category: &str) -> bool {
        self.disk_categories.is_empty() || self.disk_categories.iter().any(|c| c == category)
    }

    pub fn is_burstable(&self) -> bool {
        self.level == "CreditEntryLevel"
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TypePrice {
    /// PostPaid, per hour.
    pub hour: f64,
    /// PrePaid, per month.
    pub month: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DiskCategory {
    pub category: String,
    pub hour_per_gb: f64,
    pub month_per_gb: f64,
    pub min: u32,
    pub max: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[allow(non_snake_case)]
pub struct Bandwidth {
    pub PayByBandwidth: BandwidthPrices,
    pub PayByTraffic: TrafficPrice,
}

#[derive(Clone, Debug, Deserialize)]
pub struct BandwidthPrices {
    pub hour_per_mbps_first5: f64,
    pub hour_per_mbps_above5: f64,
    pub month_per_mbps_first5: f64,
    pub month_per_mbps_above5: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TrafficPrice {
    pub per_gb: f64,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Image {
    pub image_id: String,
    pub image_name: String,
    pub image_family: String,
    pub image_version: String,
    #[serde(rename = "OSName")]
    pub os_name: String,
    #[serde(rename = "OSNameEn")]
    pub os_name_en: String,
    #[serde(rename = "OSType")]
    pub os_type: String,
    pub platform: String,
    pub architecture: String,
    /// GiB.
    pub size: u32,
    pub creation_time: String,
}

/// Stock of one type in one zone, before instances consume it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stock {
    /// Not sold in this zone at all.
    NotOffered,
    SoldOut,
    /// At most this many instances.
    Limited(u32),
    Plenty,
}

/// Stock of an in-stock pair when the catalogue does not limit it.
pub const PLENTY: u32 = 100_000;

impl Catalog {
    /// The embedded catalogue, parsed once.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            // The file is compiled in and covered by tests, so a parse failure is a build defect.
            serde_json::from_str(CATALOG_JSON).expect("embedded catalog.json is valid")
        })
    }

    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.region_id == id)
    }

    pub fn zone(&self, region: &str, zone: &str) -> Option<&Zone> {
        self.region(region)?
            .zones
            .iter()
            .find(|z| z.zone_id == zone)
    }

    pub fn instance_type(&self, id: &str) -> Option<&InstanceType> {
        self.instance_types.iter().find(|t| t.id == id)
    }

    pub fn disk(&self, category: &str) -> Option<&DiskCategory> {
        self.disks.iter().find(|d| d.category == category)
    }

    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.image_id == id)
    }

    /// The newest image of a family (by version date).
    pub fn latest_in_family(&self, family: &str) -> Option<&Image> {
        self.images
            .iter()
            .filter(|i| i.image_family == family)
            .max_by(|a, b| a.image_version.cmp(&b.image_version))
    }

    pub fn price(&self, region: &str, instance_type: &str) -> Option<TypePrice> {
        self.prices.get(region)?.get(instance_type).copied()
    }

    /// The catalogue's stock of a type in a zone.
    pub fn stock(&self, region: &str, zone: &str, instance_type: &str) -> Stock {
        let Some(z) = self.zone(region, zone) else {
            return Stock::NotOffered;
        };
        if !z.instance_types.iter().any(|t| t == instance_type) {
            Stock::NotOffered
        } else if z.sold_out.iter().any(|t| t == instance_type) {
            Stock::SoldOut
        } else if let Some(n) = z.limited.get(instance_type) {
            Stock::Limited(*n)
        } else {
            Stock::Plenty
        }
    }

    /// The region a zone id belongs to.
    pub fn region_of_zone(&self, zone: &str) -> Option<&Region> {
        self.regions
            .iter()
            .find(|r| r.zones.iter().any(|z| z.zone_id == zone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_meets_its_promises() {
        let c = Catalog::get();
        assert!(c.regions.len() >= 5);
        for r in [
            "cn-hangzhou",
            "cn-shanghai",
            "cn-beijing",
            "ap-southeast-1",
            "us-west-1",
        ] {
            let region = c.region(r).unwrap();
            let on_sale = region.zones.iter().filter(|z| z.on_sale).count();
            assert!((2..=4).contains(&on_sale), "{r}");
        }
        // One zone closed to new purchases, so strict mode's Zone.NotOnSale can be met.
        let closed: Vec<&str> = c
            .regions
            .iter()
            .flat_map(|r| r.zones.iter().filter(|z| !z.on_sale))
            .map(|z| z.zone_id.as_str())
            .collect();
        assert_eq!(closed, ["cn-hangzhou-b"]);
        assert!(c.instance_types.len() >= 30);
        for fam in ["ecs.g", "ecs.c", "ecs.r", "ecs.t", "ecs.gn"] {
            assert!(c.instance_types.iter().any(|t| t.family.starts_with(fam)));
        }
        assert!(c.instance_types.iter().any(|t| t.gpu_amount > 0));
        // Every type in every zone has a price in its region, every category a disk entry.
        for r in &c.regions {
            for z in &r.zones {
                for t in &z.instance_types {
                    assert!(c.price(&r.region_id, t).is_some(), "{t} in {}", r.region_id);
                    let ty = c.instance_type(t).unwrap();
                    for d in &ty.disk_categories {
                        assert!(c.disk(d).is_some(), "{d}");
                    }
                }
            }
        }
        for fam in [
            "acs:alibaba_cloud_linux_3_2104_lts_x64",
            "acs:ubuntu_24_04_x64",
            "acs:ubuntu_22_04_x64",
            "acs:ubuntu_20_04_x64",
            "acs:centos_7_9_x64",
            "acs:anolis_8_10_anck_x64",
            "acs:debian_12_x64",
        ] {
            assert!(c.images.iter().filter(|i| i.image_family == fam).count() >= 2);
        }
        assert_eq!(
            c.latest_in_family("acs:ubuntu_24_04_x64").unwrap().image_id,
            "ubuntu_24_04_x64_20G_alibase_20250722.vhd"
        );
        assert_eq!(
            c.stock("cn-hangzhou", "cn-hangzhou-h", "ecs.t6-c1m2.large"),
            Stock::SoldOut
        );
    }
}
