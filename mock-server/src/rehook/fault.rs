//! Deliberate faults, for testing contract checkers (cargo feature `faults`, test-only).
//!
//! A checker that passes against a correct server proves little until it also fails against
//! broken ones. Built with the feature, a fake can be started with one [`Fault`]: one small,
//! precise deviation from the contract, the kind a real Rehook-compatible server plausibly
//! gets wrong. Everything else stays as the contract says.
//!
//! Each fault is one hook in the rules, written `fault!(settings, Name)`: with the feature it
//! asks the application's settings ([`crate::AppConfig::is`]); without it the macro is the
//! constant `false`, so the build has no `Fault`, no setting and no cost.

#[cfg(feature = "faults")]
mod catalogue {
    /// One deliberate deviation from the contract (one per server).
    ///
    /// Start a faulty fake with [`crate::MockRehookBuilder::fault`] or the binary's hidden
    /// `--fault NAME` flag (the names are the kebab-case variant names).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
    pub enum Fault {
        /// The uniqueness check of a sent code is skipped: a code another customer owns is
        /// claimed anyway (`201`/`200` instead of `409`), so two customers show the same
        /// code and validate-code names the latest claimant.
        TakenCodeClaimable,
        /// An update replaces the stored metadata with the sent object instead of merging
        /// it shallowly: keys not sent are lost.
        MetadataReplaced,
        /// A conversion event without a usable `metadata.referral_code` is accepted as a plain
        /// event (`200`, stored, `referral: null`) instead of `422 REFERRAL_CODE_REQUIRED`.
        ConversionWithoutCodeAccepted,
        /// Replacing a customer's code does not free the old one: it stays reserved for (and
        /// validates to) its former owner, and claiming it is `409`.
        FreedCodeStillTaken,
        /// A conversion of an already referred friend with another advocate's code moves the
        /// friend to that advocate (`attributed`) instead of keeping the first one
        /// (`already_referred`).
        ReferredFriendReattributed,
        /// An update refused with `409 REFERRAL_CODE_TAKEN` still merges the sent metadata.
        ConflictWritesMetadata,
        /// `422` refusals are answered but not written to the drop log (`409`s still are).
        UnprocessableNotLogged,
        /// A create answers `200` instead of `201` (the customer is created all the same).
        CreateAnswersOk,
        /// A conversion with the caller's own code attributes the caller to itself instead of
        /// `422 SELF_REFERRAL`.
        SelfReferralAccepted,
        /// The referral list comes newest referral first instead of oldest first.
        ReferralListNewestFirst,
        /// A numeric `source_id` is refused with `400 INVALID_SOURCE_ID` instead of being
        /// turned into its decimal text.
        NumericSourceIdRejected,
        /// In drop mode `accept`, a refused event is stored anyway, as a plain event (its
        /// caller created, no attribution); the answer and the drop log are as they should be.
        AcceptedDropStored,
        /// Codes are matched ignoring case: claiming `abc` while another customer holds `ABC`
        /// is `409`, validate-code of `abc` finds `ABC`'s owner, and a conversion with `abc`
        /// is attributed to `ABC`'s owner.
        CodeMatchCaseInsensitive,
        /// The front door skips its `messageId` check: a message whose `messageId` was seen
        /// before is delivered again (its mapped call made a second time) instead of being
        /// dropped as `duplicate_message_id`.
        DuplicateMessageIdDelivered,
    }

    impl Fault {
        /// Every fault, in catalogue order (the enum's order, as clap lists its values).
        pub fn all() -> &'static [Fault] {
            <Fault as clap::ValueEnum>::value_variants()
        }

        /// The name the binary's `--fault` flag takes (`taken-code-claimable`, ...): clap's
        /// name for the value, worked out once for every fault.
        pub fn name(self) -> &'static str {
            static NAMES: std::sync::OnceLock<Vec<(Fault, String)>> = std::sync::OnceLock::new();
            let names = NAMES.get_or_init(|| {
                Fault::all()
                    .iter()
                    .map(|&fault| {
                        let name = clap::ValueEnum::to_possible_value(&fault)
                            .map(|v| v.get_name().to_owned())
                            .unwrap_or_default();
                        (fault, name)
                    })
                    .collect()
            });
            names
                .iter()
                .find(|(fault, _)| *fault == self)
                .map_or("", |(_, name)| name.as_str())
        }
    }

    impl std::fmt::Display for Fault {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.name())
        }
    }
}

#[cfg(feature = "faults")]
pub use catalogue::Fault;

/// Whether the application whose settings are `$settings` (an [`crate::AppConfig`]) runs
/// with the fault `$name`. Always `false` without the `faults` feature.
#[cfg(feature = "faults")]
macro_rules! fault {
    ($settings:expr, $name:ident) => {
        $settings.is($crate::rehook::fault::Fault::$name)
    };
}

/// Without the `faults` feature no fault exists: every hook is the constant `false`.
#[cfg(not(feature = "faults"))]
macro_rules! fault {
    ($settings:expr, $name:ident) => {
        false
    };
}

pub(crate) use fault;
