use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A logged number. JSON has no NaN or infinities, so on the wire those travel as the strings
/// `"NaN"`, `"Infinity"` and `"-Infinity"` (the protobuf JSON convention); finite values are
/// plain JSON numbers. Integers are kept as f64 (exact up to 2^53).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Scalar(pub f64);

impl Scalar {
    pub fn parse_special(text: &str) -> Option<f64> {
        match text {
            "NaN" | "nan" => Some(f64::NAN),
            "Infinity" | "inf" | "+Infinity" | "+inf" => Some(f64::INFINITY),
            "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        }
    }

    /// The JSON form of a value: a number when finite, else one of the special strings.
    pub fn to_json(value: f64) -> serde_json::Value {
        if value.is_finite() {
            serde_json::Number::from_f64(value).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
        } else {
            serde_json::Value::String(Self::special_name(value).to_string())
        }
    }

    fn special_name(value: f64) -> &'static str {
        if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
    }
}

/// Writes whole numbers without a fraction (`12345`, not `12345.0`): x values on the step axis
/// are integers, and charts carry hundreds of thousands of them.
struct Compact(f64);

impl Serialize for Compact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        if self.0.fract() == 0.0 && self.0.abs() < EXACT {
            serializer.serialize_i64(self.0 as i64)
        } else {
            Scalar(self.0).serialize(serializer)
        }
    }
}

pub(crate) fn compact_numbers<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(|v| Compact(*v)))
}

pub(crate) fn compact_options<S: Serializer>(values: &[Option<f64>], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(|v| v.map(Compact)))
}

impl From<f64> for Scalar {
    fn from(value: f64) -> Self {
        Scalar(value)
    }
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            serializer.serialize_f64(self.0)
        } else {
            serializer.serialize_str(Self::special_name(self.0))
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or one of \"NaN\", \"Infinity\", \"-Infinity\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Scalar::parse_special(v).map(Scalar).ok_or_else(|| {
                    E::custom(format!(
                        "expected a number or \"NaN\"/\"Infinity\"/\"-Infinity\", found the string {v:?}; send text as an object value"
                    ))
                })
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_round_trip() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.5, -0.0, 1e300] {
            let text = serde_json::to_string(&Scalar(v)).unwrap();
            let back: Scalar = serde_json::from_str(&text).unwrap();
            assert!(back.0 == v || (back.0.is_nan() && v.is_nan()), "{text}");
        }
        assert_eq!(serde_json::to_string(&Scalar(f64::NAN)).unwrap(), "\"NaN\"");
        assert!(serde_json::from_str::<Scalar>("\"hello\"").is_err());
        assert!(serde_json::from_str::<Scalar>("true").is_err());
    }

    #[test]
    fn whole_numbers_are_written_compactly() {
        let text = serde_json::to_string(&[Compact(3.0), Compact(-2.5), Compact(f64::NAN), Compact(1e300)]).unwrap();
        assert_eq!(text, "[3,-2.5,\"NaN\",1e+300]");
    }
}
