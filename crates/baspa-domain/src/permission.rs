//! Roles and what they may do (CM-4, SC-1). Per-section and per-language grants narrow these
//! (the `grants` table); the checks run in the action layer, never only in the UI.

use serde::{Deserialize, Serialize};

use crate::status::UnknownValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    ChiefEditor,
    Editor,
    Author,
    Translator,
    Viewer,
}

/// One thing an action may need to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    CreateContent,
    EditOwnContent,
    EditAnyContent,
    Translate,
    Publish,
    Trash,
    RestoreFromTrash,
    Purge,
    ManageStructure,
    ManageUsers,
    ManageSettings,
    ModerateComments,
}

impl Role {
    pub const ALL: &'static [Role] =
        &[Role::Administrator, Role::ChiefEditor, Role::Editor, Role::Author, Role::Translator, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::ChiefEditor => "chief_editor",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Translator => "translator",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownValue> {
        Role::ALL.iter().copied().find(|r| r.as_str() == raw).ok_or_else(|| UnknownValue {
            kind: "role",
            value: raw.to_owned(),
            expected: Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// The capabilities a role has on the sections it is granted.
    pub fn allows(self, capability: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Administrator => true,
            Role::ChiefEditor => !matches!(capability, ManageUsers | ManageSettings),
            Role::Editor => matches!(
                capability,
                CreateContent
                    | EditOwnContent
                    | EditAnyContent
                    | Translate
                    | Publish
                    | Trash
                    | RestoreFromTrash
                    | ModerateComments
            ),
            Role::Author => matches!(capability, CreateContent | EditOwnContent),
            Role::Translator => matches!(capability, Translate | EditOwnContent),
            Role::Viewer => false,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sc1_only_editors_and_above_publish_and_nobody_but_admins_purge_users() {
        let check =
            |role: Role, cap: Capability, expected: bool| assert_eq!(role.allows(cap), expected, "{role} {cap:?}");
        check(Role::Author, Capability::Publish, false);
        check(Role::Author, Capability::CreateContent, true);
        check(Role::Editor, Capability::Publish, true);
        check(Role::Editor, Capability::Purge, false);
        check(Role::ChiefEditor, Capability::Purge, true);
        check(Role::ChiefEditor, Capability::ManageUsers, false);
        check(Role::Administrator, Capability::ManageUsers, true);
        check(Role::Viewer, Capability::CreateContent, false);
        check(Role::Translator, Capability::Translate, true);
        check(Role::Translator, Capability::Publish, false);
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(*r));
        }
        assert!(Role::parse("root").is_err());
    }
}
