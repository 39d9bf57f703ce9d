//! Who may do what where (CM-4, SC-1). An account has a role. Without grants the role applies to
//! the whole site in every language; with grants, only the grants apply, each giving a role's
//! capabilities within one section subtree (or the whole site) and one language (or all).
//! Administrators are never narrowed, so a site cannot lock itself out.

use baspa_db::entity::item;
use baspa_db::{DatabaseTransaction, content as store};
use baspa_domain::{Capability, ItemId, ItemKind, LangCode, Role};

use crate::{ActionError, Actor};

/// A role granted within a section subtree and/or one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    /// `None`: every section (and content outside sections).
    pub section: Option<ItemId>,
    /// `None`: every language.
    pub lang: Option<LangCode>,
}

/// Where an action applies: the section it touches with that section's ancestors (nearest
/// first; empty for content outside sections and for site-wide actions) and the language
/// (`None` when the action affects every language of an item).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub sections: Vec<i64>,
    pub lang: Option<String>,
}

impl Scope {
    /// The whole site: users, settings, languages, redirects.
    pub fn site() -> Self {
        Self::default()
    }

    pub fn in_lang(mut self, lang: &str) -> Self {
        self.lang = Some(lang.to_owned());
        self
    }
}

impl Grant {
    fn covers(&self, capability: Capability, scope: &Scope) -> bool {
        let section_ok = self.section.is_none_or(|s| scope.sections.contains(&s.0));
        let lang_ok = match (&self.lang, &scope.lang) {
            (None, _) => true,
            (Some(granted), Some(wanted)) => granted.as_str() == wanted,
            (Some(_), None) => false,
        };
        section_ok && lang_ok && self.role.allows(capability)
    }
}

impl Actor {
    /// Whether the actor has `capability` in `scope`.
    pub fn may(&self, capability: Capability, scope: &Scope) -> bool {
        if self.role == Role::Administrator || self.grants.is_empty() {
            return self.role.allows(capability);
        }
        self.grants.iter().any(|g| g.covers(capability, scope))
    }

    /// Whether the actor has `capability` somewhere (menus; media not tied to a section).
    pub fn may_somewhere(&self, capability: Capability) -> bool {
        if self.role == Role::Administrator || self.grants.is_empty() {
            return self.role.allows(capability);
        }
        self.grants.iter().any(|g| g.role.allows(capability))
    }

    pub(crate) fn require_in(
        &self,
        capability: Capability,
        scope: &Scope,
        action: &'static str,
    ) -> Result<(), ActionError> {
        if self.may(capability, scope) { Ok(()) } else { Err(ActionError::NotPermitted { action }) }
    }
}

/// The scope of an existing item: a section is in its own subtree; articles and documents are
/// in their section's; pages and tags are outside sections.
pub(crate) async fn item_scope(tx: &DatabaseTransaction, item: &item::Model) -> Result<Scope, ActionError> {
    let anchor =
        if item.kind == ItemKind::Section.as_str() { Some(ItemId(item.id)) } else { item.section_id.map(ItemId) };
    section_scope(tx, anchor).await
}

pub(crate) async fn section_scope(tx: &DatabaseTransaction, section: Option<ItemId>) -> Result<Scope, ActionError> {
    let sections = match section {
        Some(s) => store::section_ancestry(tx, s).await?,
        None => Vec::new(),
    };
    Ok(Scope { sections, lang: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, grants: Vec<Grant>) -> Actor {
        let mut a = Actor::system("test");
        a.role = role;
        a.grants = grants;
        a
    }

    fn lang(code: &str) -> Option<LangCode> {
        LangCode::parse(code).ok()
    }

    #[test]
    fn a_grant_narrows_to_its_subtree_and_language() {
        let sport = 7;
        let football = 8;
        let editor = actor(Role::Editor, vec![Grant { role: Role::Editor, section: Some(ItemId(sport)), lang: None }]);
        let in_football = Scope { sections: vec![football, sport], lang: Some("kk".into()) };
        let in_politics = Scope { sections: vec![3], lang: Some("kk".into()) };
        assert!(editor.may(Capability::Publish, &in_football));
        assert!(!editor.may(Capability::Publish, &in_politics));
        assert!(!editor.may(Capability::Publish, &Scope::site()));

        let translator =
            actor(Role::Translator, vec![Grant { role: Role::Translator, section: None, lang: lang("ru") }]);
        assert!(translator.may(Capability::Translate, &Scope::site().in_lang("ru")));
        assert!(!translator.may(Capability::Translate, &Scope::site().in_lang("kk")));
        assert!(
            !translator.may(Capability::Translate, &Scope::site()),
            "all-language actions need an all-language grant"
        );
    }

    #[test]
    fn without_grants_the_role_is_site_wide_and_administrators_are_never_narrowed() {
        assert!(actor(Role::Editor, vec![]).may(Capability::Publish, &Scope { sections: vec![1], lang: None }));
        let admin =
            actor(Role::Administrator, vec![Grant { role: Role::Viewer, section: Some(ItemId(1)), lang: None }]);
        assert!(admin.may(Capability::ManageUsers, &Scope::site()));
    }
}
