//! Every model of `src/models.rs` is decoded from each matching file of Microsoft's payloads in
//! `<repo>/../shared/reference/microsoft/fixtures` (read `INDEX.md` there for where each one
//! comes from).
//!
//! [`CASES`] maps each fixture file to the model it decodes into, and whether the file is
//! one object, a `value` collection ([`Page`]) or a delta page ([`DeltaPage`]). The other
//! lists say why a file has no case: [`NO_MODEL_YET`] (grading, rubrics, assignment
//! settings), [`NOT_A_MODEL_PAYLOAD`] (error envelopes, OIDC material, JSON we send without a
//! model, non-JSON files). `every_fixture_file_is_in_exactly_one_list` makes a new fixture
//! fail until it is placed, and `every_model_is_decoded_or_listed` does the same for a new
//! model in `src/models.rs`.
//!
//! The folder is found from `CARGO_MANIFEST_DIR` (CI clones the repo with `../shared` beside
//! it); `EDU_MS_FIXTURES` overrides it, as for `tests/contract.rs`.
#![expect(clippy::unwrap_used, reason = "test code: helpers outside #[test] fns unwrap too")]

use std::collections::BTreeSet;
use std::path::PathBuf;

use edu_msgraph::batch::BatchRequestBody;
use edu_msgraph::error::GraphErrorEnvelope;
use edu_msgraph::models::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    if let Ok(p) = std::env::var("EDU_MS_FIXTURES") {
        return PathBuf::from(p);
    }
    // backend/msgraph -> backend -> the repo root, whose parent holds shared/
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/microsoft/fixtures")
}

fn fixture_names() -> BTreeSet<String> {
    let dir = fixtures_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "Microsoft fixtures folder {} is missing ({e}). The tests expect the `shared` folder beside \
             the repository (<repo>/../shared/reference/microsoft/fixtures), or EDU_MS_FIXTURES set to it.",
            dir.display()
        )
    });
    entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

fn read_json(name: &str) -> Value {
    let p = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

/// How a fixture file holds the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One object.
    One,
    /// A collection page: `{"value": [...], "@odata.nextLink": ...}`.
    Collection,
    /// A delta page: a collection whose items may be `@removed` entries.
    Delta,
}

/// A documented doc artefact the file is cleaned of before decoding (see `INDEX.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prep {
    AsIs,
    /// Single entity wrapped in `"value": {...}` (doc bug; the service sends it at top level).
    UnwrapValue,
    /// Microsoft's placeholder type names as values (`"accountEnabled": "Boolean"`) and
    /// `{"@odata.type": ...}`-only array entries standing for "an object of this type".
    Placeholders,
    /// Both of the above.
    UnwrapValueAndPlaceholders,
    /// `"saveToSentItems": "false"`: a boolean written as a string in the sendMail sample.
    StringBoolean,
}

fn replace_placeholders(v: &mut Value) {
    match v {
        Value::String(s) if s == "Boolean" => *v = Value::Bool(true),
        Value::Array(a) => {
            a.retain(|e| !(e.as_object().is_some_and(|o| o.len() == 1 && o.contains_key("@odata.type"))));
            a.iter_mut().for_each(replace_placeholders);
        }
        Value::Object(o) => o.values_mut().for_each(replace_placeholders),
        _ => {}
    }
}

fn unwrap_value_object(v: Value) -> Value {
    match v {
        Value::Object(mut o) if o.get("value").is_some_and(Value::is_object) => o.remove("value").unwrap(),
        other => other,
    }
}

impl Prep {
    fn apply(self, mut v: Value) -> Value {
        if matches!(self, Prep::UnwrapValue | Prep::UnwrapValueAndPlaceholders) {
            v = unwrap_value_object(v);
        }
        if matches!(self, Prep::Placeholders | Prep::UnwrapValueAndPlaceholders) {
            replace_placeholders(&mut v);
        }
        if self == Prep::StringBoolean
            && let Some(o) = v.as_object_mut()
        {
            for value in o.values_mut() {
                if let Some(b) = value.as_str().and_then(|s| s.parse::<bool>().ok()) {
                    *value = Value::Bool(b);
                }
            }
        }
        v
    }
}

/// One fixture file and the model it decodes into.
struct Case {
    file: &'static str,
    /// The type's name (as written in `src/models.rs` and friends).
    model: &'static str,
    shape: Shape,
    prep: Prep,
    decode: fn(Shape, Value) -> Result<(), String>,
}

/// Decodes `v` as `shape` of `T`; a collection must keep every item.
fn decode<T: DeserializeOwned>(shape: Shape, v: Value) -> Result<(), String> {
    let items = v.get("value").and_then(Value::as_array).map(Vec::len);
    match shape {
        Shape::One => serde_json::from_value::<T>(v).map(drop).map_err(|e| e.to_string()),
        Shape::Collection => {
            let page: Page<T> = serde_json::from_value(v).map_err(|e| e.to_string())?;
            match items {
                Some(n) if n == page.value.len() => Ok(()),
                _ => Err(format!("{} items decoded from a value array of {items:?}", page.value.len())),
            }
        }
        Shape::Delta => {
            let page = DeltaPage::<T>::from_json(&serde_json::to_vec(&v).unwrap()).map_err(|e| e.to_string())?;
            match items {
                Some(n) if n == page.items.len() => Ok(()),
                _ => Err(format!("{} items decoded from a value array of {items:?}", page.items.len())),
            }
        }
    }
}

macro_rules! case {
    ($file:literal, $model:ident, $shape:ident) => {
        case!($file, $model, $shape, AsIs)
    };
    ($file:literal, $model:ident, $shape:ident, $prep:ident) => {
        Case {
            file: $file,
            model: stringify!($model),
            shape: Shape::$shape,
            prep: Prep::$prep,
            decode: decode::<$model>,
        }
    };
}

/// Fixture file -> model. Responses decode into what our client reads; request bodies into
/// the types we send.
const CASES: &[Case] = &[
    // Directory: users, groups, licences, photos.
    case!("graph_me_get_response.json", User, One),
    case!("graph_user_get_select_response.json", User, One),
    case!("graph_user_create_response.json", User, One),
    case!("graph_user_assignlicense_response.json", User, One),
    case!("graph_users_list_response.json", User, Collection),
    case!("graph_users_list_filter_count_consistencylevel_response.json", User, Collection),
    case!("graph_users_list_filter_assignedlicenses_response.json", User, Collection),
    case!("graph_users_delta_initial_response.json", User, Delta),
    case!("graph_users_delta_nextlink_page_response.json", User, Delta),
    case!("graph_users_delta_final_page_with_deltalink_response.json", User, Delta),
    case!("graph_users_delta_deltalink_no_changes_response.json", User, Delta),
    case!("graph_user_manager_get_response.json", DirectoryObject, One),
    case!("graph_group_members_list_response.json", DirectoryObject, Collection),
    case!("graph_group_transitivemembers_list_response.json", DirectoryObject, Collection),
    case!("graph_me_expand_manager_levels_max_response.json", ManagerChain, One),
    case!("graph_groups_list_response.json", Group, Collection),
    case!("graph_groups_list_filter_startswith_count_response.json", Group, Collection),
    case!("graph_group_transitivemembers_cast_group_count_response.json", Group, Collection),
    case!("graph_subscribedskus_list_response.json", SubscribedSku, Collection),
    case!("graph_me_photo_metadata_response.json", ProfilePhoto, One),
    case!("graph_me_photo_metadata_no_photo_response.json", ProfilePhoto, One),
    case!("graph_driveitem_get_response.json", DriveItem, One),
    // Education: users, schools, classes.
    case!("graph_education_me_get_response.json", EducationUser, One, UnwrapValueAndPlaceholders),
    case!("graph_education_users_list_response.json", EducationUser, Collection, Placeholders),
    case!("graph_education_users_delta_response.json", EducationUser, Delta, Placeholders),
    case!("graph_education_school_users_list_response.json", EducationUser, Collection),
    case!("graph_education_school_get_response.json", EducationSchool, One, UnwrapValue),
    case!("graph_education_schools_list_response.json", EducationSchool, Collection),
    case!("graph_education_me_schools_list_response.json", EducationSchool, Collection),
    case!("graph_education_class_get_response.json", EducationClass, One),
    case!("graph_education_classes_list_response.json", EducationClass, Collection),
    case!("graph_education_classes_delta_response.json", EducationClass, Delta),
    // Education: assignments and their resources.
    case!("graph_education_assignment_get_response.json", EducationAssignment, One),
    case!("graph_education_assignment_publish_response.json", EducationAssignment, One),
    case!("graph_education_class_assignment_create_response.json", EducationAssignment, One),
    case!("graph_education_class_assignments_list_response.json", EducationAssignment, Collection),
    case!("graph_education_class_assignments_list_filter_status_response.json", EducationAssignment, Collection),
    case!("graph_education_user_assignments_list_response.json", EducationAssignment, Collection),
    case!("graph_education_user_assignments_list_expand_submissions_response.json", EducationAssignment, Collection),
    case!("graph_education_assignment_resource_create_link_response.json", EducationAssignmentResource, One),
    // Education: submissions, their resources and outcomes.
    case!("graph_education_assignment_submissions_list_expand_outcomes_response.json", EducationSubmission, Collection),
    case!("graph_education_submission_get_expand_response.json", EducationSubmission, One),
    case!("graph_education_submission_submit_response.json", EducationSubmission, One),
    case!("graph_education_submission_unsubmit_response.json", EducationSubmission, One),
    case!("graph_education_submission_return_response.json", EducationSubmission, One),
    case!("graph_education_submission_reassign_response_no_prefer.json", EducationSubmission, One),
    case!("graph_education_submission_reassign_response_prefer.json", EducationSubmission, One),
    case!("graph_education_submission_excuse_response_no_prefer.json", EducationSubmission, One),
    case!("graph_education_submission_excuse_response_prefer.json", EducationSubmission, One),
    case!("graph_education_submission_resources_list_response.json", EducationSubmissionResource, Collection),
    case!("graph_education_submission_submittedresources_list_response.json", EducationSubmissionResource, Collection),
    case!(
        "graph_education_submission_outcomes_list_filter_feedbackresource_response.json",
        EducationOutcome,
        Collection
    ),
    case!("graph_education_submission_outcome_create_feedbackresource_response.json", EducationOutcome, One),
    case!("graph_education_outcome_update_feedback_response.json", EducationOutcome, One),
    case!("graph_education_outcome_update_rubric_response.json", EducationOutcome, One),
    // Request bodies we send.
    case!("graph_education_class_assignment_create_request.json", NewAssignment, One),
    case!("graph_education_assignment_resource_create_link_request.json", EducationAssignmentResource, One),
    case!("graph_me_sendmail_request.json", SendMailRequest, One, StringBoolean),
    case!("graph_me_sendmail_with_attachment_request.json", SendMailRequest, One),
    case!("graph_user_assignlicense_request.json", AssignLicenseRequest, One),
    case!("graph_batch_request.json", BatchRequestBody, One),
    case!("graph_batch_dependson_request.json", BatchRequestBody, One),
    // Graph error envelopes (decoded into `ErrorDetail`/`GraphError` in tests/contract.rs).
    case!("graph_error_400_count_without_consistencylevel_response.json", GraphErrorEnvelope, One),
    case!("graph_error_400_endswith_without_advanced_params_response.json", GraphErrorEnvelope, One),
    case!("graph_error_400_search_without_consistencylevel_response.json", GraphErrorEnvelope, One),
    case!("graph_error_400_unsupported_filter_property_response.json", GraphErrorEnvelope, One),
    case!("graph_error_403_authorization_requestdenied_response.json", GraphErrorEnvelope, One),
    case!("graph_error_404_resource_not_found_response.json", GraphErrorEnvelope, One),
    case!("graph_error_501_notimplemented_response.json", GraphErrorEnvelope, One),
    case!("graph_sendmail_error_invalid_mime_response.json", GraphErrorEnvelope, One),
    case!("graph_education_outcome_update_error_400_invalidgrading_response.json", GraphErrorEnvelope, One),
    case!("graph_education_outcome_update_error_404_response.json", GraphErrorEnvelope, One),
];

/// Payloads of features we have no model for yet: grading categories, rubrics, assignment
/// settings/defaults and outcome updates come with the grading work.
const NO_MODEL_YET: &[&str] = &[
    "graph_education_assignment_gradingcategory_put_ref_request.json",
    "graph_education_assignment_rubric_put_ref_request.json",
    "graph_education_class_assignmentdefaults_get_response.json",
    "graph_education_class_assignmentsettings_get_response.json",
    "graph_education_class_assignmentsettings_update_gradingcategories_delta_request.json",
    "graph_education_class_assignmentsettings_update_gradingcategories_delta_response.json",
    "graph_education_class_assignmentsettings_update_gradingcategories_request.json",
    "graph_education_class_assignmentsettings_update_gradingcategories_response.json",
    "graph_education_class_assignmentsettings_update_request.json",
    "graph_education_class_assignmentsettings_update_response.json",
    "graph_education_class_categories_list_response.json",
    "graph_education_outcome_update_feedback_request.json",
    "graph_education_outcome_update_points_request.json",
    "graph_education_outcome_update_rubric_request.json",
    "graph_education_rubric_create_request_credit.json",
    "graph_education_rubric_create_request_points.json",
    "graph_education_rubric_create_response_credit.json",
    "graph_education_rubric_create_response_points.json",
    "graph_education_rubric_get_response.json",
    "graph_education_submission_outcome_create_feedbackresource_request.json",
    // Change notifications are not used by the product (generic, non-education samples).
    "graph_changenotification_webhook_request_generic.json",
    "graph_subscription_create_request_generic.json",
    "graph_subscription_create_response_generic.json",
];

/// Files that are no payload of a `models.rs` type, and where they are checked.
const NOT_A_MODEL_PAYLOAD: &[&str] = &[
    "INDEX.md",
    // `/users/$count` is text/plain (tests/contract.rs).
    "graph_users_count_response.txt",
    // Bodies we build as plain JSON (no request model): `$ref`/`@odata.bind` member adds,
    // PATCHes of a few user fields. `NewUser` is serialize-only (it holds a password).
    "graph_education_class_members_add_ref_request.json",
    "graph_group_members_add_ref_request.json",
    "graph_group_members_add_bind_patch_request.json",
    "graph_me_patch_request.json",
    "graph_user_patch_passwordprofile_request.json",
    "graph_user_create_request.json",
    // Published text that is not JSON; its `.json` twin is in a list above.
    "graph_education_class_assignmentsettings_update_gradingcategories_delta_request.verbatim.txt",
    "graph_education_me_schools_list_response.verbatim.txt",
    "graph_education_outcome_update_feedback_response.verbatim.txt",
    "graph_education_school_users_list_response.verbatim.txt",
    "graph_error_403_authorization_requestdenied_response.verbatim.txt",
    "graph_group_transitivemembers_cast_group_count_response.verbatim.txt",
    "oidc_token_authcode_response.verbatim.txt",
    // Identity platform: token answers are `TokenResponse`/`OAuthError` (tests/contract.rs);
    // discovery, keys, tokens and redirects are the API's sign-in's business.
    "oidc_access_token_v1_decoded_claims.json",
    "oidc_access_token_v2_decoded_claims.json",
    "oidc_admin_consent_redirects.verbatim.txt",
    "oidc_authorize_redirects.verbatim.txt",
    "oidc_client_assertion_decoded_ps256.verbatim.txt",
    "oidc_client_assertion_decoded_rs256_legacy.verbatim.txt",
    "oidc_discovery_common_v2.json",
    "oidc_discovery_organizations_v2.json",
    "oidc_discovery_tenant_v2.json",
    "oidc_id_token_v1_decoded_claims.json",
    "oidc_id_token_v1_sample.jwt",
    "oidc_id_token_v2_decoded_claims.json",
    "oidc_id_token_v2_sample.jwt",
    "oidc_instance_discovery_response.json",
    "oidc_jwks_common.json",
    "oidc_jwks_organizations.json",
    "oidc_token_authcode_response.json",
    "oidc_token_client_credentials_error_response.json",
    "oidc_token_client_credentials_recorded_response.json",
    "oidc_token_client_credentials_response.json",
    "oidc_token_device_code_recorded_response.json",
    "oidc_token_error_invalid_client_recorded_response.json",
    "oidc_token_error_invalid_scope_response.json",
    "oidc_token_error_with_error_uri_response.json",
];

/// Types of `src/models.rs` decoded only as a part of a model in [`CASES`] (the part, then
/// the model whose fixtures carry it).
const DECODED_AS_A_PART: &[(&str, &str)] = &[
    ("Page", "every Collection case"),
    ("Identity", "IdentitySet"),
    ("IdentitySet", "EducationAssignment, EducationSubmission, DriveItem"),
    ("AssignedLicense", "User"),
    ("ObjectIdentity", "User"),
    ("LicenseUnits", "SubscribedSku"),
    ("ServicePlanInfo", "SubscribedSku"),
    ("ItemBody", "EducationAssignment, SendMailRequest"),
    ("EmailAddress", "SendMailRequest"),
    ("Recipient", "SendMailRequest"),
    ("FileAttachment", "SendMailRequest"),
    ("MailMessage", "SendMailRequest"),
    ("PrimaryRole", "EducationUser"),
    ("PhysicalAddress", "EducationUser, EducationSchool"),
    ("EducationStudent", "EducationUser"),
    ("EducationTeacher", "EducationUser"),
    ("EducationOnPremisesInfo", "EducationUser"),
    ("EducationTerm", "EducationClass"),
    ("AssignmentStatus", "EducationAssignment"),
    ("SubmissionStatus", "EducationSubmission"),
    ("SubmissionRecipient", "EducationSubmission"),
    ("EducationResource", "EducationAssignmentResource, EducationSubmissionResource"),
];

/// Types of `src/models.rs` with no fixture, and why.
const NO_FIXTURE: &[(&str, &str)] = &[
    ("Organization", "no organization sample in the fixtures"),
    ("VerifiedDomain", "part of Organization"),
    ("ServicePrincipal", "no servicePrincipal sample in the fixtures"),
    ("Conversation", "no group conversation sample in the fixtures"),
    ("UploadSession", "no upload session sample in the fixtures"),
    ("NewUser", "serialize-only (graph_user_create_request.json is what it sends)"),
    ("PasswordProfile", "serialize-only, part of NewUser"),
    ("Photo", "raw bytes, not JSON"),
    ("RemovedReason", "built by DeltaPage::from_json (every Delta case)"),
    ("DeltaItem", "built by DeltaPage::from_json (every Delta case)"),
    ("DeltaPage", "every Delta case"),
    ("UploadProgress", "built from an upload answer, not decoded"),
    ("UploadError", "an error type"),
];

#[test]
fn every_fixture_file_is_in_exactly_one_list() {
    let names = fixture_names();
    assert!(names.len() > 100, "suspiciously few fixtures in {}: {}", fixtures_dir().display(), names.len());
    let listed: Vec<&str> = CASES
        .iter()
        .map(|c| c.file)
        .chain(NO_MODEL_YET.iter().copied())
        .chain(NOT_A_MODEL_PAYLOAD.iter().copied())
        .collect();
    let mut seen = BTreeSet::new();
    let twice: Vec<&&str> = listed.iter().filter(|f| !seen.insert(**f)).collect();
    assert!(twice.is_empty(), "listed more than once: {twice:?}");
    let unlisted: Vec<&String> = names.iter().filter(|n| !seen.contains(n.as_str())).collect();
    assert!(unlisted.is_empty(), "fixtures with no case and not listed as without a model: {unlisted:?}");
    let missing: Vec<&&str> = seen.iter().filter(|f| !names.contains(**f)).collect();
    assert!(missing.is_empty(), "listed but not in the fixtures folder: {missing:?}");
}

#[test]
fn every_model_decodes_from_each_matching_fixture() {
    let mut failures = Vec::new();
    for case in CASES {
        let v = case.prep.apply(read_json(case.file));
        if let Err(e) = (case.decode)(case.shape, v) {
            failures.push(format!("{} as {:?} of {}: {e}", case.file, case.shape, case.model));
        }
    }
    assert!(failures.is_empty(), "fixtures that do not decode:\n{}", failures.join("\n"));
}

/// Each clean-up is needed where it is applied: without it the model refuses the doc
/// artefact (a fixture that loses it, or a model that starts to accept it, shows up here).
#[test]
fn doc_artefacts_are_cleaned_only_where_a_model_refuses_them() {
    for case in CASES.iter().filter(|c| c.prep != Prep::AsIs) {
        let raw = read_json(case.file);
        assert!((case.decode)(case.shape, raw).is_err(), "{} decodes without {:?}", case.file, case.prep);
    }
}

/// Every type defined in `src/models.rs` is decoded by a case, as a part of one, or listed
/// with the reason it has no fixture.
#[test]
fn every_model_is_decoded_or_listed() {
    let source = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/models.rs")).unwrap();
    let defined: BTreeSet<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub struct ").or_else(|| l.strip_prefix("pub enum ")))
        .map(|rest| rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or(rest))
        .collect();
    assert!(defined.len() > 40, "suspiciously few models found: {defined:?}");
    let accounted: BTreeSet<&str> = CASES
        .iter()
        .map(|c| c.model)
        .chain(DECODED_AS_A_PART.iter().map(|(m, _)| *m))
        .chain(NO_FIXTURE.iter().map(|(m, _)| *m))
        .collect();
    let unaccounted: Vec<&&str> = defined.iter().filter(|m| !accounted.contains(**m)).collect();
    assert!(unaccounted.is_empty(), "models with no fixture case and no reason: {unaccounted:?}");
    let stale: Vec<&str> =
        DECODED_AS_A_PART.iter().chain(NO_FIXTURE).map(|(m, _)| *m).filter(|m| !defined.contains(m)).collect();
    assert!(stale.is_empty(), "listed but not defined in src/models.rs: {stale:?}");
}
