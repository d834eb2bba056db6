//! The options Ideogram 3.0 Edit offers: limits, the 62 style presets and the option enums,
//! each with its API spelling and a readable label.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The Runware model identifier of Ideogram 3.0 Edit.
pub const MODEL: &str = "ideogram:4@3";
/// Prompt length limits, in characters.
pub const PROMPT_MAX_CHARS: usize = 2000;
/// Number of results limits.
pub const RESULTS_RANGE: std::ops::RangeInclusive<u32> = 1..=20;
/// Output quality limits.
pub const QUALITY_RANGE: std::ops::RangeInclusive<u8> = 20..=99;
/// Shortest time-to-live the service accepts, in seconds.
pub const TTL_MIN: u32 = 60;
/// Most style reference images.
pub const STYLE_REFERENCES_MAX: usize = 4;

/// All 62 Ideogram style presets, as the API spells them.
pub const STYLE_PRESETS: [&str; 62] = [
    "80S_ILLUSTRATION",
    "90S_NOSTALGIA",
    "ABSTRACT_ORGANIC",
    "ANALOG_NOSTALGIA",
    "ART_BRUT",
    "ART_DECO",
    "ART_POSTER",
    "AURA",
    "AVANT_GARDE",
    "BAUHAUS",
    "BLUEPRINT",
    "BLURRY_MOTION",
    "BRIGHT_ART",
    "C4D_CARTOON",
    "CHILDRENS_BOOK",
    "COLLAGE",
    "COLORING_BOOK_I",
    "COLORING_BOOK_II",
    "CUBISM",
    "DARK_AURA",
    "DOODLE",
    "DOUBLE_EXPOSURE",
    "DRAMATIC_CINEMA",
    "EDITORIAL",
    "EMOTIONAL_MINIMAL",
    "ETHEREAL_PARTY",
    "EXPIRED_FILM",
    "FLAT_ART",
    "FLAT_VECTOR",
    "FOREST_REVERIE",
    "GEO_MINIMALIST",
    "GLASS_PRISM",
    "GOLDEN_HOUR",
    "GRAFFITI_I",
    "GRAFFITI_II",
    "HALFTONE_PRINT",
    "HIGH_CONTRAST",
    "HIPPIE_ERA",
    "ICONIC",
    "JAPANDI_FUSION",
    "JAZZY",
    "LONG_EXPOSURE",
    "MAGAZINE_EDITORIAL",
    "MINIMAL_ILLUSTRATION",
    "MIXED_MEDIA",
    "MONOCHROME",
    "NIGHTLIFE",
    "OIL_PAINTING",
    "OLD_CARTOONS",
    "PAINT_GESTURE",
    "POP_ART",
    "RETRO_ETCHING",
    "RIVIERA_POP",
    "SPOTLIGHT_80S",
    "STYLIZED_RED",
    "SURREAL_COLLAGE",
    "TRAVEL_POSTER",
    "VINTAGE_GEO",
    "VINTAGE_POSTER",
    "WATERCOLOR",
    "WEIRD",
    "WOODBLOCK_PRINT",
];

/// A readable name for a style preset code: `80S_ILLUSTRATION` -> "80s Illustration",
/// `COLORING_BOOK_II` -> "Coloring Book II", `C4D_CARTOON` -> "C4D Cartoon".
pub fn style_preset_label(code: &str) -> String {
    code.split('_')
        .map(|word| {
            let roman = word.chars().all(|c| c == 'I' || c == 'V');
            let has_digit = word.chars().any(|c| c.is_ascii_digit());
            if roman || (has_digit && !word.ends_with('S')) {
                word.to_string()
            } else {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => first.to_string() + &chars.as_str().to_lowercase(),
                    None => String::new(),
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Finds a preset by its API code or readable name, ignoring case, spaces, '-' and '_'.
pub fn find_style_preset(text: &str) -> Option<&'static str> {
    let key = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let wanted = key(text);
    STYLE_PRESETS.iter().copied().find(|p| key(p) == wanted)
}

macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $api:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $api)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value as the API spells it.
            pub fn as_api(self) -> &'static str {
                match self { $($name::$variant => $api,)+ }
            }

            /// A readable name for a form.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// Parses the API spelling or the label, ignoring case.
            pub fn parse(text: &str) -> Option<$name> {
                let t = text.trim();
                Self::ALL.iter().copied().find(|v| {
                    v.as_api().eq_ignore_ascii_case(t) || v.label().eq_ignore_ascii_case(t)
                })
            }

            /// The accepted spellings, for messages.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_api()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_api())
            }
        }
    };
}

api_enum!(
    /// Ideogram 3.0 style types.
    StyleType {
        Auto => "AUTO", "Auto";
        General => "GENERAL", "General";
        Realistic => "REALISTIC", "Realistic";
        Design => "DESIGN", "Design";
        Fiction => "FICTION", "Fiction";
        Render3d => "RENDER_3D", "Render 3D (may be refused)";
        Anime => "ANIME", "Anime (may be refused)";
    }
);

impl StyleType {
    /// `RENDER_3D` and `ANIME` are listed on the model page but are Ideogram 1.0/2.x style
    /// types: kept when imported or chosen, and warned about ([`EditRequest::warnings`]).
    ///
    /// [`EditRequest::warnings`]: super::EditRequest::warnings
    pub fn may_be_refused(self) -> bool {
        matches!(self, StyleType::Render3d | StyleType::Anime)
    }
}

api_enum!(
    /// Speed against quality of the rendering.
    RenderingSpeed {
        Turbo => "TURBO", "Turbo";
        Default => "DEFAULT", "Default";
        Quality => "QUALITY", "Quality";
    }
);

api_enum!(
    /// Whether Ideogram rewrites the prompt.
    MagicPrompt {
        Auto => "AUTO", "Auto";
        On => "ON", "On";
        Off => "OFF", "Off";
    }
);

api_enum!(
    /// Encoding of the result pictures.
    OutputFormat {
        Jpg => "JPG", "JPG";
        Png => "PNG", "PNG";
        Webp => "WEBP", "WEBP";
    }
);

api_enum!(
    /// How result pictures come back.
    OutputType {
        Url => "URL", "URL";
        Base64Data => "base64Data", "Base64";
        DataUri => "dataURI", "Data URI";
    }
);

api_enum!(
    /// Whether the submit waits for the pictures or answers at once and is polled.
    Delivery {
        Sync => "sync", "Wait for the results";
        Async => "async", "Queue and poll";
    }
);

api_enum!(
    /// Content safety check strength.
    SafetyMode {
        None => "none", "None";
        Fast => "fast", "Fast";
    }
);

impl OutputFormat {
    /// File extension of results in this format.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
        }
    }
}

/// The `safety` object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Safety {
    pub check_content: Option<bool>,
    pub mode: Option<SafetyMode>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_labels_read_well() {
        assert_eq!(style_preset_label("80S_ILLUSTRATION"), "80s Illustration");
        assert_eq!(style_preset_label("COLORING_BOOK_II"), "Coloring Book II");
        assert_eq!(style_preset_label("C4D_CARTOON"), "C4D Cartoon");
        assert_eq!(style_preset_label("SPOTLIGHT_80S"), "Spotlight 80s");
        assert_eq!(
            find_style_preset("magazine editorial"),
            Some("MAGAZINE_EDITORIAL")
        );
        assert_eq!(find_style_preset("nope"), None);
        let mut sorted = STYLE_PRESETS.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), 62);
    }
}
