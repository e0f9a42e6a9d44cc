//! Extending the catalogue: the zones, instance types, prices and images a simulator knows on
//! top of the embedded `catalog.json`, from `ecsh sim --catalogue FILE.json` (checked here,
//! with errors that name the bad field) or learned by a shadow from the target's catalogue
//! answers (`model/learn.rs`).
//!
//! An [`Extension`] holds entries in the catalogue's own spelling; [`Catalog::extended`] merges
//! one into a copy of a catalogue. The model looks entries up as `&'static` (a RunInstances
//! spec keeps its type and image), so a world's extended catalogue is leaked once per change
//! ([`leak`]): a simulator process extends its catalogue at start, a plan a few times while it
//! learns, and nothing is extended in a loop.

use super::catalog::{Catalog, Image, InstanceType, Region, TypePrice, Zone};
use crate::ops;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Catalogue entries to add to (or, for what a shadow learns, to update in) a catalogue.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// New regions, or zones added to a region (by `RegionId` alone).
    #[serde(default)]
    pub regions: Vec<Region>,
    #[serde(default)]
    pub instance_types: Vec<InstanceType>,
    /// region → instance type → prices.
    #[serde(default)]
    pub prices: BTreeMap<String, BTreeMap<String, TypePrice>>,
    #[serde(default)]
    pub images: Vec<Image>,
}

/// The sections a `--catalogue` file may have.
const SECTIONS: [&str; 4] = ["regions", "instance_types", "prices", "images"];

impl Extension {
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
            && self.instance_types.is_empty()
            && self.prices.is_empty()
            && self.images.is_empty()
    }

    /// Reads and checks a `--catalogue` file against `base` (what it extends).
    pub fn from_file(path: &Path, base: &Catalog) -> Result<Extension, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the catalogue file {}: {e}", path.display()))?;
        Extension::parse(&text, base)
            .map_err(|e| format!("the catalogue file {}: {e}", path.display()))
    }

    /// Parses and checks the text of a `--catalogue` file (README, "Extending the simulator's
    /// catalogue"): each entry is read on its own, so an error names its section and index.
    pub fn parse(text: &str, base: &Catalog) -> Result<Extension, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(doc) = doc else {
            return Err(format!(
                "must be a JSON object with some of {}",
                SECTIONS.join(", ")
            ));
        };
        let mut ext = Extension::default();
        for (key, value) in &doc {
            match key.as_str() {
                "regions" => ext.regions = entries(key, value, |r: &Region| r.region_id.clone())?,
                "instance_types" => {
                    ext.instance_types = entries(key, value, |t: &InstanceType| t.id.clone())?
                }
                "images" => ext.images = entries(key, value, |i: &Image| i.image_id.clone())?,
                "prices" => {
                    ext.prices = serde_json::from_value(value.clone()).map_err(|e| {
                        format!("prices: {e} (prices look like {{\"cn-hangzhou\": {{\"ecs.g9i.large\": {{\"hour\": 0.6, \"month\": 240}}}}}})")
                    })?
                }
                other => {
                    let near = ops::closest(other, SECTIONS.iter().copied())
                        .map(|n| format!("; did you mean {n}?"))
                        .unwrap_or_default();
                    return Err(format!(
                        "unknown section `{other}`{near} (the file takes {})",
                        SECTIONS.join(", ")
                    ));
                }
            }
        }
        ext.check(base)?;
        Ok(ext)
    }

    /// What a file may not say: an entry the catalogue already has, a zone offering a type
    /// nobody defined or priced, a disk category, architecture or OS the simulator cannot model.
    fn check(&self, base: &Catalog) -> Result<(), String> {
        let known_type = |id: &str| {
            base.instance_type(id).is_some() || self.instance_types.iter().any(|t| t.id == id)
        };
        let type_names = || {
            base.instance_types
                .iter()
                .chain(&self.instance_types)
                .map(|t| t.id.as_str())
        };
        for (i, t) in self.instance_types.iter().enumerate() {
            let at = format!("instance_types[{i}] ({})", t.id);
            if t.id.is_empty() {
                return Err(format!("instance_types[{i}].id is empty"));
            }
            if base.instance_type(&t.id).is_some() {
                return Err(format!(
                    "{at}: the embedded catalogue already has {}; the file only adds types",
                    t.id
                ));
            }
            if t.cores == 0 || t.memory.is_nan() || t.memory <= 0.0 {
                return Err(format!("{at}: cores and memory must be more than 0"));
            }
            one_of(&at, "arch", &t.arch, &["X86", "ARM"])?;
            one_of(
                &at,
                "level",
                &t.level,
                &["EntryLevel", "EnterpriseLevel", "CreditEntryLevel"],
            )?;
            if t.disk_categories.is_empty() {
                return Err(format!(
                    "{at}.disk_categories is empty; list the categories it takes (e.g. cloud_essd)"
                ));
            }
            for d in &t.disk_categories {
                if base.disk(d).is_none() {
                    let all: Vec<&str> = base.disks.iter().map(|d| d.category.as_str()).collect();
                    return Err(format!(
                        "{at}.disk_categories: unknown category `{d}`; use {}",
                        all.join(", ")
                    ));
                }
            }
        }
        for (r, region) in self.regions.iter().enumerate() {
            let existing = base.region(&region.region_id);
            for (z, zone) in region.zones.iter().enumerate() {
                let at = format!("regions[{r}].zones[{z}] ({})", zone.zone_id);
                if zone.zone_id.is_empty() {
                    return Err(format!("regions[{r}].zones[{z}].ZoneId is empty"));
                }
                if let Some(other) = base.region_of_zone(&zone.zone_id) {
                    if other.region_id != region.region_id {
                        return Err(format!(
                            "{at}: the zone is already in {}, not {}",
                            other.region_id, region.region_id
                        ));
                    }
                }
                let listed = zone
                    .instance_types
                    .iter()
                    .map(|t| ("instance_types", t))
                    .chain(zone.sold_out.iter().map(|t| ("sold_out", t)))
                    .chain(zone.limited.keys().map(|t| ("limited", t)));
                for (field, t) in listed {
                    if !known_type(t) {
                        let near = ops::closest(t, type_names())
                            .map(|n| format!(" (did you mean {n}?)"))
                            .unwrap_or_default();
                        return Err(format!(
                            "{at}.{field}: unknown instance type `{t}`{near}; define it in \
                             instance_types"
                        ));
                    }
                    if field != "instance_types" && !zone.instance_types.contains(t) {
                        return Err(format!(
                            "{at}.{field}: {t} is not in the zone's instance_types"
                        ));
                    }
                    let priced = base.price(&region.region_id, t).is_some()
                        || self
                            .prices
                            .get(&region.region_id)
                            .is_some_and(|p| p.contains_key(t.as_str()));
                    if !priced {
                        return Err(format!(
                            "{at}: {t} has no price in {}; add prices.{}.\"{t}\" \
                             ({{\"hour\": …, \"month\": …}})",
                            region.region_id, region.region_id
                        ));
                    }
                }
            }
            if existing.is_none() && region.zones.is_empty() {
                return Err(format!(
                    "regions[{r}] ({}): a new region needs at least one zone",
                    region.region_id
                ));
            }
        }
        for (region, types) in &self.prices {
            let region_known = base.region(region).is_some()
                || self.regions.iter().any(|r| &r.region_id == region);
            if !region_known {
                return Err(format!(
                    "prices.{region}: unknown region; add it to regions first"
                ));
            }
            for (t, price) in types {
                if !known_type(t) {
                    return Err(format!("prices.{region}.\"{t}\": unknown instance type"));
                }
                if price.hour.is_nan()
                    || price.month.is_nan()
                    || price.hour <= 0.0
                    || price.month <= 0.0
                {
                    return Err(format!(
                        "prices.{region}.\"{t}\": hour and month must be more than 0"
                    ));
                }
            }
        }
        for (i, image) in self.images.iter().enumerate() {
            let at = format!("images[{i}] ({})", image.image_id);
            if image.image_id.is_empty() {
                return Err(format!("images[{i}].ImageId is empty"));
            }
            if base.image(&image.image_id).is_some() {
                return Err(format!(
                    "{at}: the embedded catalogue already has this image; the file only adds images"
                ));
            }
            one_of(
                &at,
                "Architecture",
                &image.architecture,
                &["x86_64", "arm64"],
            )?;
            one_of(&at, "OSType", &image.os_type, &["linux", "windows"])?;
            if !(1..=2048).contains(&image.size) {
                return Err(format!("{at}.Size must be 1 to 2048 (GiB)"));
            }
        }
        Ok(())
    }
}

/// One section's entries, each read on its own so an error says which one.
fn entries<T: for<'de> Deserialize<'de>>(
    section: &str,
    value: &Value,
    id: impl Fn(&T) -> String,
) -> Result<Vec<T>, String> {
    let Value::Array(items) = value else {
        return Err(format!("{section} must be a list"));
    };
    let mut out: Vec<T> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let entry: T =
            serde_json::from_value(item.clone()).map_err(|e| format!("{section}[{i}]: {e}"))?;
        let key = id(&entry);
        if out.iter().any(|o| id(o) == key) {
            return Err(format!("{section}[{i}]: {key} is listed twice"));
        }
        out.push(entry);
    }
    Ok(out)
}

fn one_of(at: &str, field: &str, value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(format!(
        "{at}.{field} is `{value}`; use one of {}",
        allowed.join(", ")
    ))
}

impl Catalog {
    /// A copy of this catalogue with `ext` merged in, or `None` when it would add or change
    /// nothing. New regions, zones, types, prices and images are added; a zone already there
    /// gains the types it lacks, and takes the extension's sold-out mark (and limit, where it
    /// gives one) for each type the extension lists; a type or image already there takes the extension's
    /// attributes (what a shadow learned from the target is the truth).
    pub fn extended(&self, ext: &Extension) -> Option<Catalog> {
        let mut out = self.clone();
        let mut changed = false;
        for region in &ext.regions {
            match out
                .regions
                .iter_mut()
                .find(|r| r.region_id == region.region_id)
            {
                None => {
                    let mut new = region.clone();
                    fill_region_names(&mut new);
                    for zone in &mut new.zones {
                        fill_zone_names(zone);
                    }
                    out.regions.push(new);
                    changed = true;
                }
                Some(have) => {
                    for zone in &region.zones {
                        changed |= merge_zone(have, zone);
                    }
                }
            }
        }
        for t in &ext.instance_types {
            changed |= upsert(&mut out.instance_types, t, |h| h.id == t.id);
        }
        for (region, types) in &ext.prices {
            let have = out.prices.entry(region.clone()).or_default();
            for (t, price) in types {
                if have.get(t) != Some(price) {
                    have.insert(t.clone(), *price);
                    changed = true;
                }
            }
        }
        for image in &ext.images {
            changed |= upsert(&mut out.images, image, |h| h.image_id == image.image_id);
        }
        changed.then_some(out)
    }
}

/// Puts `item` in `list` in place of the entry `same` picks, or at the end; true if that
/// changed anything.
fn upsert<T: Clone + PartialEq>(list: &mut Vec<T>, item: &T, same: impl Fn(&T) -> bool) -> bool {
    match list.iter_mut().find(|h| same(h)) {
        Some(have) if have == item => false,
        Some(have) => {
            *have = item.clone();
            true
        }
        None => {
            list.push(item.clone());
            true
        }
    }
}

/// Adds `zone` to `region`, or what it offers to the zone already there; true if that changed
/// anything.
fn merge_zone(region: &mut Region, zone: &Zone) -> bool {
    let Some(have) = region.zones.iter_mut().find(|z| z.zone_id == zone.zone_id) else {
        let mut new = zone.clone();
        fill_zone_names(&mut new);
        region.zones.push(new);
        return true;
    };
    // For each type the entry lists, the entry's sold-out mark wins (a shadow holds the
    // target's stock, whatever the embedded catalogue said).
    let before = (
        have.instance_types.len(),
        have.sold_out.clone(),
        have.limited.clone(),
    );
    for t in &zone.instance_types {
        if !have.instance_types.contains(t) {
            have.instance_types.push(t.clone());
        }
        let sold_out = zone.sold_out.contains(t);
        have.sold_out.retain(|s| s != t);
        if sold_out {
            have.sold_out.push(t.clone());
        }
        // A quantity is kept unless the entry gives one: a stock answer says Available, not
        // how many are left.
        if let Some(n) = zone.limited.get(t) {
            have.limited.insert(t.clone(), *n);
        }
    }
    let mut after_sold_out = have.sold_out.clone();
    let mut before_sold_out = before.1;
    after_sold_out.sort();
    before_sold_out.sort();
    before.0 != have.instance_types.len()
        || before_sold_out != after_sold_out
        || before.2 != have.limited
}

/// A new region's names and endpoints, where the file or the answer left them out.
fn fill_region_names(region: &mut Region) {
    let id = region.region_id.clone();
    for name in [&mut region.local_name, &mut region.local_name_en] {
        if name.is_empty() {
            *name = id.clone();
        }
    }
    if region.region_endpoint.is_empty() {
        region.region_endpoint = format!("ecs.{id}.aliyuncs.com");
    }
    if region.vpc_endpoint.is_empty() {
        region.vpc_endpoint = format!("vpc.{id}.aliyuncs.com");
    }
}

fn fill_zone_names(zone: &mut Zone) {
    for name in [&mut zone.local_name, &mut zone.local_name_en] {
        if name.is_empty() {
            *name = zone.zone_id.clone();
        }
    }
}

/// A catalogue for the model's `&'static` lookups (see the module doc for why it is leaked).
pub fn leak(catalog: Catalog) -> &'static Catalog {
    Box::leak(Box::new(catalog))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
      "regions": [{ "RegionId": "cn-hangzhou", "zones": [
        { "ZoneId": "cn-hangzhou-z", "instance_types": ["ecs.g9z.large"] } ] }],
      "instance_types": [{ "id": "ecs.g9z.large", "family": "ecs.g9z", "generation": "ecs-9",
        "cores": 2, "memory": 4.0, "gpu_amount": 0, "gpu_spec": "", "gpu_memory": 0,
        "level": "EnterpriseLevel", "arch": "X86", "processor": "Test",
        "disk_categories": ["cloud_essd"], "launched": "2026-01-01" }],
      "prices": { "cn-hangzhou": { "ecs.g9z.large": { "hour": 0.05, "month": 20 } } },
      "images": [{ "ImageId": "ubuntu_26_04_x64_20G_alibase_20260420.vhd",
        "ImageName": "ubuntu_26_04_x64_20G_alibase_20260420.vhd",
        "ImageFamily": "acs:ubuntu_24_04_x64", "ImageVersion": "20990101",
        "OSName": "Ubuntu 26.04 64位", "OSNameEn": "Ubuntu 26.04 64 bit", "OSType": "linux",
        "Platform": "Ubuntu", "Architecture": "x86_64", "Size": 20,
        "CreationTime": "2026-04-20T08:00:00Z" }]
    }"#;

    #[test]
    fn a_good_file_extends_the_catalogue() {
        let base = Catalog::get();
        let ext = Extension::parse(GOOD, base).unwrap();
        let c = base.extended(&ext).unwrap();
        assert_eq!(c.instance_type("ecs.g9z.large").unwrap().cores, 2);
        let zone = c.zone("cn-hangzhou", "cn-hangzhou-z").unwrap();
        assert_eq!(zone.local_name_en, "cn-hangzhou-z");
        assert_eq!(
            c.latest_in_family("acs:ubuntu_24_04_x64").unwrap().image_id,
            "ubuntu_26_04_x64_20G_alibase_20260420.vhd"
        );
        // The embedded zones are still there, and merging again changes nothing.
        assert!(c.zone("cn-hangzhou", "cn-hangzhou-j").is_some());
        assert!(c.extended(&ext).is_none());
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_field() {
        let base = Catalog::get();
        let bad = |from: &str, to: &str| {
            let text = GOOD.replacen(from, to, 1);
            assert_ne!(text, GOOD, "{from}");
            Extension::parse(&text, base).unwrap_err()
        };
        let e = bad("\"cores\": 2,", "");
        assert!(
            e.contains("instance_types[0]") && e.contains("cores"),
            "{e}"
        );
        let e = bad("\"cloud_essd\"]", "\"cloud_fast\"]");
        assert!(
            e.contains("disk_categories") && e.contains("cloud_fast"),
            "{e}"
        );
        let e = bad("[\"ecs.g9z.large\"] }", "[\"ecs.g9z.larg\"] }");
        assert!(
            e.contains("regions[0].zones[0]") && e.contains("did you mean ecs.g9z.large"),
            "{e}"
        );
        let e = bad("\"hour\": 0.05, \"month\": 20", "\"hour\": 0.05");
        assert!(e.contains("prices") && e.contains("month"), "{e}");
        let e = bad(
            "\"Architecture\": \"x86_64\"",
            "\"Architecture\": \"amd64\"",
        );
        assert!(e.contains("images[0]") && e.contains("Architecture"), "{e}");
        let e = bad("\"images\"", "\"imagess\"");
        assert!(e.contains("did you mean images"), "{e}");
        let e = bad("\"ecs.g9z.large\": {", "\"ecs.g9z.other\": {");
        assert!(e.contains("no price"), "{e}");
        let e = bad("\"id\": \"ecs.g9z.large\"", "\"id\": \"ecs.g7.large\"");
        assert!(e.contains("already has"), "{e}");
        let e = bad("\"cores\"", "\"vcpus\"");
        assert!(e.contains("vcpus"), "{e}");
    }
}
