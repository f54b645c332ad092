//! [`string_enum!`](crate::string_enum): enumerations stored as text, and the
//! [`NamedEnum`] trait through which the gRPC layer maps them to the contract's enums
//! by name.

/// An enumeration whose variants have stable names: [`as_str`](Self::as_str), what
/// databases store, and [`api_name`](Self::api_name), the name in the contract (the
/// same unless the variant says otherwise).
pub trait NamedEnum: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Every variant, in declaration order.
    const VARIANTS: &'static [Self];
    /// The stable text stored in databases.
    fn as_str(&self) -> &'static str;
    /// The variant's name in the API, lower case: `tonne` is `QUANTITY_UNIT_TONNE`.
    fn api_name(&self) -> &'static str;
}

/// An enumeration with a stable text form (what databases store): `ALL`, `as_str`,
/// `FromStr` (refusing unknown text with [`Invalid`](crate::Invalid)), `Display` and
/// [`NamedEnum`]. A variant whose contract name differs from its stored text says so:
/// `Tonne => "t" as "tonne"`. Variants take doc comments (`/// Intercommunalité.`).
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal $(as $api:literal)?),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text stored in the database.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl $crate::NamedEnum for $name {
            const VARIANTS: &'static [$name] = $name::ALL;

            fn as_str(&self) -> &'static str {
                $name::as_str(self)
            }

            fn api_name(&self) -> &'static str {
                match self { $($name::$variant => $crate::string_enum!(@api $text $($api)?)),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::Invalid;
            fn from_str(s: &str) -> Result<Self, $crate::Invalid> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::Invalid(format!("unknown {} {other:?}", stringify!($name)))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    (@api $text:literal) => { $text };
    (@api $text:literal $api:literal) => { $api };
}

#[cfg(test)]
mod tests {
    use super::NamedEnum;

    crate::string_enum!(
        /// Units as a store keeps them.
        Unit {
            /// A metric tonne.
            Tonne => "t" as "tonne",
            Unit => "unit",
        }
    );

    #[test]
    fn the_api_name_is_the_stored_text_unless_given() {
        assert_eq!(Unit::Tonne.as_str(), "t");
        assert_eq!(Unit::Tonne.api_name(), "tonne");
        assert_eq!(Unit::Unit.api_name(), "unit");
        assert_eq!(Unit::VARIANTS, Unit::ALL);
        assert_eq!("t".parse::<Unit>().map_err(|e| e.0), Ok(Unit::Tonne));
        assert!(
            "tonne".parse::<Unit>().is_err(),
            "the store's text, not the API's"
        );
    }
}
