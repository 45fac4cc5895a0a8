//! Who may do what: pure authorisation rules over a [`Principal`], tested with tables.
//!
//! Handlers ask these functions before touching the store, so the rules live in one place
//! and the HTTP layer cannot drift from the CLI.

use super::Role;

/// The user on whose behalf a request runs, with the institutes they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    pub organisation_ids: Vec<String>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn belongs_to(&self, organisation_id: &str) -> bool {
        self.organisation_ids.iter().any(|o| o == organisation_id)
    }
}

/// Whose accounts a principal may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserScope {
    Everyone,
    /// Members of these institutes only.
    Organisations(Vec<String>),
}

/// Admins list everyone; managers and instructors list the members of their own
/// institutes (instructors follow their learners); learners list nobody.
pub fn user_scope(who: &Principal) -> Option<UserScope> {
    match who.role {
        Role::Admin => Some(UserScope::Everyone),
        Role::Manager | Role::Instructor => Some(UserScope::Organisations(who.organisation_ids.clone())),
        Role::Learner => None,
    }
}

/// Whether `who` may create an account with `role` in `organisation_id`.
///
/// Admins create any account. Managers create instructors and learners inside their own
/// institutes, never admins or other managers (that would let a manager widen their own
/// reach). Instructors and learners create no accounts.
pub fn may_create_user(who: &Principal, role: Role, organisation_id: Option<&str>) -> bool {
    match who.role {
        Role::Admin => true,
        Role::Manager => {
            matches!(role, Role::Instructor | Role::Learner) && organisation_id.is_some_and(|org| who.belongs_to(org))
        }
        Role::Instructor | Role::Learner => false,
    }
}

/// Only admins create institutes.
pub fn may_create_organisation(who: &Principal) -> bool {
    who.is_admin()
}

/// Admins, and managers of that institute, manage its members.
pub fn may_manage_members(who: &Principal, organisation_id: &str) -> bool {
    who.is_admin() || (who.role == Role::Manager && who.belongs_to(organisation_id))
}

/// Whether `who` may add an existing account with `member_role` to an institute. Managers
/// add instructors and learners only: adding another manager would widen that manager's
/// reach, which is an administrator's decision.
pub fn may_add_member(who: &Principal, organisation_id: &str, member_role: Role) -> bool {
    who.is_admin()
        || (may_manage_members(who, organisation_id) && matches!(member_role, Role::Instructor | Role::Learner))
}

/// Admins see every institute's members; others see those of institutes they belong to,
/// except learners, who see no member lists.
pub fn may_view_members(who: &Principal, organisation_id: &str) -> bool {
    who.is_admin() || (who.role != Role::Learner && who.belongs_to(organisation_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, orgs: &[&str]) -> Principal {
        Principal { user_id: "u".into(), role, organisation_ids: orgs.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn creating_users() {
        use Role::*;
        // (acting role, acting orgs, target role, target org, allowed)
        let cases: &[(Role, &[&str], Role, Option<&str>, bool)] = &[
            (Admin, &[], Admin, None, true),
            (Admin, &[], Learner, Some("x"), true),
            (Manager, &["a"], Learner, Some("a"), true),
            (Manager, &["a"], Instructor, Some("a"), true),
            (Manager, &["a"], Learner, Some("b"), false),
            (Manager, &["a"], Learner, None, false),
            (Manager, &["a"], Manager, Some("a"), false),
            (Manager, &["a"], Admin, Some("a"), false),
            (Instructor, &["a"], Admin, None, false),
            (Instructor, &["a"], Learner, Some("a"), false),
            (Learner, &["a"], Learner, Some("a"), false),
        ];
        for (acting, orgs, target, org, allowed) in cases {
            assert_eq!(
                may_create_user(&principal(*acting, orgs), *target, *org),
                *allowed,
                "{acting:?} creating {target:?} in {org:?}"
            );
        }
    }

    #[test]
    fn listing_and_members() {
        use Role::*;
        assert_eq!(user_scope(&principal(Admin, &[])), Some(UserScope::Everyone));
        assert_eq!(user_scope(&principal(Manager, &["a"])), Some(UserScope::Organisations(vec!["a".into()])));
        assert_eq!(user_scope(&principal(Learner, &["a"])), None);
        let cases: &[(Role, &[&str], &str, bool, bool)] = &[
            // (role, orgs, target org, may view members, may manage members)
            (Admin, &[], "a", true, true),
            (Manager, &["a"], "a", true, true),
            (Manager, &["a"], "b", false, false),
            (Instructor, &["a"], "a", true, false),
            (Learner, &["a"], "a", false, false),
        ];
        for (role, orgs, org, view, manage) in cases {
            let p = principal(*role, orgs);
            assert_eq!(may_view_members(&p, org), *view, "{role:?} view {org}");
            assert_eq!(may_manage_members(&p, org), *manage, "{role:?} manage {org}");
        }
        assert!(may_add_member(&principal(Manager, &["a"]), "a", Learner));
        assert!(!may_add_member(&principal(Manager, &["a"]), "a", Manager));
        assert!(!may_add_member(&principal(Manager, &["a"]), "b", Learner));
        assert!(may_add_member(&principal(Admin, &[]), "a", Manager));
        assert!(may_create_organisation(&principal(Admin, &[])));
        assert!(!may_create_organisation(&principal(Manager, &["a"])));
    }
}
