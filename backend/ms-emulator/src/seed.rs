//! Deterministic demo district and large-tenant generator.

use crate::model::*;
use crate::util::{det_id, iso};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Demo app (registered by `Seed::Demo` / `Seed::Large`).
pub const DEMO_APP_CLIENT_ID: &str = "5e1c7a3d-9b2f-4d8e-a6c4-1f0e2d3c4b5a";
pub const DEMO_APP_SECRET: &str = "edugraph-demo-secret";
pub const ADMIN_PASSWORD: &str = "Admin#2026";
pub const TEACHER_PASSWORD: &str = "Teacher#2026";
pub const STUDENT_PASSWORD: &str = "Student#2026";

pub const SKU_FACULTY: &str = "94763226-9b3c-4e75-a931-5c89701abe66";
pub const SKU_STUDENT: &str = "314c4481-f395-4525-be8b-2ec4bb1e9d91";

/// A 1x1 GIF used as the demo users' photo.
pub const PHOTO_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoDirectory {
    pub app_client_id: String,
    pub app_client_secret: String,
    pub tenants: Vec<DemoTenant>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoTenant {
    pub id: String,
    pub display_name: String,
    pub domain: String,
    pub consented: bool,
    pub admin: DemoUser,
    pub teachers: Vec<DemoUser>,
    /// For large tenants only the first 50 students are listed.
    pub students: Vec<DemoUser>,
    pub schools: Vec<DemoSchool>,
    pub classes: Vec<DemoClass>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoUser {
    pub id: String,
    pub upn: String,
    pub password: String,
    pub display_name: String,
    /// "admin", "teacher" or "student".
    pub role: String,
    pub has_photo: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoSchool {
    pub id: String,
    pub display_name: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoClass {
    pub id: String,
    pub display_name: String,
    pub school_id: String,
    pub teacher_ids: Vec<String>,
    pub student_ids: Vec<String>,
}

impl DemoDirectory {
    pub fn tenant(&self, id_or_domain: &str) -> Option<&DemoTenant> {
        self.tenants.iter().find(|t| t.id == id_or_domain || t.domain.eq_ignore_ascii_case(id_or_domain))
    }
}

const FIRST: &[&str] = &[
    "Ava", "Liam", "Olivia", "Noah", "Emma", "Mateo", "Sophia", "Lucas", "Isabella", "Ethan", "Mia", "Amir", "Zoe",
    "Kenji", "Chloe", "Diego", "Priya", "Jonas", "Lea", "Omar", "Nora", "Felix", "Yara", "Hugo", "Ines", "Theo",
    "Maya", "Leo", "Sara", "Ivan", "Aisha", "Ben", "Clara", "Dev", "Elif", "Finn", "Grace",
];
const LAST: &[&str] = &[
    "Garcia", "Smith", "Nguyen", "Kowalski", "Okafor", "Rossi", "Muller", "Silva", "Kim", "Haddad", "Larsen", "Patel",
    "Dubois", "Novak", "Tanaka", "Jensen", "Costa", "Ivanova", "Brown", "Moreau", "Lopez", "Fischer", "Sato", "Ali",
    "Berg", "Meyer", "Hughes", "Quinn", "Reyes", "Stone", "Varga",
];
const SUBJECTS: &[&str] = &[
    "Mathematics",
    "English",
    "Biology",
    "History",
    "Chemistry",
    "Physics",
    "Art",
    "Music",
    "Geography",
    "Computer Science",
];

pub struct Built {
    pub tenant: Tenant,
    pub demo: DemoTenant,
}

struct Ctx<'a> {
    key: &'a str,
    t: Tenant,
    d: DemoTenant,
    created: String,
}

fn user_props(
    ctx: &Ctx<'_>,
    id: &str,
    first: &str,
    last: &str,
    nick: &str,
    job: Option<&str>,
    dept: &str,
) -> Map<String, Value> {
    let upn = format!("{nick}@{}", ctx.t.domain);
    let v = json!({
        "id": id,
        "accountEnabled": true,
        "businessPhones": [],
        "city": "Redmond",
        "createdDateTime": ctx.created,
        "department": dept,
        "displayName": format!("{first} {last}"),
        "givenName": first,
        "jobTitle": job,
        "mail": upn,
        "mailNickname": nick,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
        "surname": last,
        "usageLocation": "US",
        "userPrincipalName": upn,
        "userType": "Member",
        "assignedLicenses": [],
        "onPremisesImmutableId": null,
        "onPremisesSyncEnabled": null,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn license(sku: &str) -> Value {
    json!([{"disabledPlans": [], "skuId": sku}])
}

impl<'a> Ctx<'a> {
    fn new(key: &'a str, name: &str, domain: &str) -> Ctx<'a> {
        let id = det_id(&format!("tenant/{key}"));
        let t = Tenant::new(&id, name, domain);
        let d = DemoTenant { id, display_name: name.into(), domain: domain.into(), ..Default::default() };
        Ctx { key, t, d, created: iso(1_754_006_400) }
    }

    fn add_person(&mut self, kind: &str, n: usize, school: Option<&str>, list: bool) -> String {
        let id = det_id(&format!("user/{}/{kind}/{n}", self.key));
        let (first, last) = if kind == "admin" {
            ("Alex".to_string(), "Admin".to_string())
        } else {
            let off = if kind == "teacher" { 7 } else { 0 };
            (FIRST[(n + off) % FIRST.len()].to_string(), LAST[(n * 7 + n / FIRST.len() + off) % LAST.len()].to_string())
        };
        let nick = match kind {
            "admin" => "admin".to_string(),
            "teacher" => format!("{}.{}.t{n}", first.to_lowercase(), last.to_lowercase()),
            _ => format!("{}.{}{n}", first.to_lowercase(), last.to_lowercase()),
        };
        let (job, dept, password) = match kind {
            "admin" => (Some("IT Administrator"), "IT", crate::seed::ADMIN_PASSWORD),
            "teacher" => (Some("Teacher"), "Faculty", TEACHER_PASSWORD),
            _ => (None, "Students", STUDENT_PASSWORD),
        };
        let mut props = user_props(self, &id, &first, &last, &nick, job, dept);
        let sku = if kind == "student" { SKU_STUDENT } else { SKU_FACULTY };
        props.insert("assignedLicenses".into(), license(sku));
        let photo = kind != "student" || n.is_multiple_of(3);
        let edu = match kind {
            "admin" => None,
            _ => Some(EduInfo {
                role: kind.to_string(),
                external_id: format!("{}{n:05}", if kind == "teacher" { "T" } else { "S" }),
                number: format!("{n:05}"),
                grade: (kind == "student").then(|| format!("{}", 9 + n % 4)),
                schools: school.map(|s| vec![s.to_string()]).unwrap_or_default(),
            }),
        };
        let wids = if kind == "admin" {
            vec![GLOBAL_ADMIN_ROLE.to_string(), DEFAULT_USER_ROLE.to_string()]
        } else {
            vec![DEFAULT_USER_ROLE.to_string()]
        };
        let user = User {
            id: id.clone(),
            props,
            password: password.to_string(),
            photo: photo.then(|| PHOTO_GIF.to_vec()),
            manager: None,
            wids,
            edu,
        };
        if list || kind != "student" {
            let du = DemoUser {
                id: id.clone(),
                upn: user.upn().to_string(),
                password: password.into(),
                display_name: user.display_name().to_string(),
                role: kind.into(),
                has_photo: photo,
            };
            match kind {
                "admin" => self.d.admin = du,
                "teacher" => self.d.teachers.push(du),
                _ => self.d.students.push(du),
            }
        }
        self.t.add_user(user);
        id
    }

    fn add_school(&mut self, n: usize, name: &str, low: &str, high: &str) -> String {
        let id = det_id(&format!("school/{}/{n}", self.key));
        let props = json!({
            "id": id, "displayName": name, "description": format!("{name} ({low}-{high})"),
            "externalSource": "sis", "externalSourceDetail": "EduGraph demo SIS",
            "principalEmail": format!("admin@{}", self.t.domain), "principalName": "Alex Admin",
            "externalPrincipalId": format!("P{n:04}"), "lowestGrade": low, "highestGrade": high,
            "schoolNumber": format!("{}", 1000 + n), "externalId": format!("{}", 1000 + n),
            "phone": format!("+1 (425) 555-{:04}", 100 + n), "fax": null,
            "createdBy": {"user": {"displayName": "EduGraph SIS sync", "id": null}},
            "address": {"city": "Redmond", "countryOrRegion": "United States", "postalCode": "98052", "state": "WA", "street": format!("{} School Way", 100 + n)},
        });
        if let Value::Object(m) = props {
            self.t.schools.push(School { id: id.clone(), props: m });
        }
        self.d.schools.push(DemoSchool { id: id.clone(), display_name: name.into() });
        id
    }

    fn add_class(
        &mut self,
        n: usize,
        school: &str,
        school_no: usize,
        teacher: &str,
        students: &[String],
        list: bool,
    ) -> String {
        let id = det_id(&format!("class/{}/{n}", self.key));
        let subject = SUBJECTS[n % SUBJECTS.len()];
        let name = format!("{subject} {}", 9 + (n / SUBJECTS.len()) % 4);
        let display = format!("{name} - S{school_no} P{}", n % 7 + 1);
        let nick = format!("Section_{}_{n}", subject.replace(' ', ""));
        let props = json!({
            "id": id, "deletedDateTime": null, "classification": null, "createdDateTime": self.created,
            "creationOptions": ["classAssignments", "ExchangeProvisioningFlags:461"],
            "description": format!("{subject} class"), "displayName": display, "expirationDateTime": null,
            "groupTypes": ["Unified"], "isAssignableToRole": null, "mail": format!("{nick}@{}", self.t.domain),
            "mailEnabled": true, "mailNickname": nick, "membershipRule": null, "membershipRuleProcessingState": null,
            "onPremisesLastSyncDateTime": null, "onPremisesSecurityIdentifier": null, "onPremisesSyncEnabled": null,
            "preferredDataLocation": null, "preferredLanguage": null,
            "proxyAddresses": [format!("SMTP:{nick}@{}", self.t.domain)], "renewedDateTime": self.created,
            "resourceBehaviorOptions": ["HideGroupInOutlook", "WelcomeEmailDisabled"], "resourceProvisioningOptions": ["Team"],
            "securityEnabled": false, "theme": null, "visibility": "HiddenMembership", "onPremisesProvisioningErrors": [],
        });
        let class_props = json!({
            "classCode": format!("{}-{n:03}", &subject[..3].to_uppercase()),
            "externalName": name, "externalId": format!("C{n:05}"), "externalSource": "sis",
            "externalSourceDetail": "EduGraph demo SIS", "grade": format!("{}", 9 + (n / SUBJECTS.len()) % 4),
            "term": {"externalId": "T2026-1", "startDate": "2025-09-01", "endDate": "2026-06-30", "displayName": "2025/2026"},
            "createdBy": {"application": null, "device": null, "user": {"id": null, "displayName": "EduGraph SIS sync"}},
        });
        let mut members = vec![teacher.to_string()];
        members.extend(students.iter().cloned());
        let (Value::Object(p), Value::Object(cp)) = (props, class_props) else {
            return id;
        };
        self.t.add_group(Group {
            id: id.clone(),
            props: p,
            members,
            owners: vec![teacher.to_string()],
            class: Some(ClassInfo { schools: vec![school.to_string()], props: cp }),
        });
        if list {
            self.d.classes.push(DemoClass {
                id: id.clone(),
                display_name: display,
                school_id: school.into(),
                teacher_ids: vec![teacher.into()],
                student_ids: students.to_vec(),
            });
        }
        id
    }

    fn add_assignments(&mut self, class_no: usize, class_id: &str, teacher: &str, students: &[String]) {
        for k in 0..2 {
            let id = det_id(&format!("assignment/{}/{class_no}/{k}", self.key));
            let published = k == 0;
            let created = iso(1_757_000_000 + (class_no * 3600) as u64);
            let due = iso(1_760_000_000 + (class_no * 3600 + k * 86_400) as u64);
            let props = crate::graph::edu::new_assignment_props(
                &id,
                class_id,
                teacher,
                &json!({
                    "displayName": if published { format!("Homework {}", class_no + 1) } else { format!("Project draft {}", class_no + 1) },
                    "dueDateTime": due,
                    "instructions": {"content": "Read the chapter and answer the questions.", "contentType": "text"},
                    "grading": {"@odata.type": "#microsoft.graph.educationAssignmentPointsGradeType", "maxPoints": 100},
                    "assignTo": {"@odata.type": "#microsoft.graph.educationAssignmentClassRecipient"},
                }),
                &created,
            );
            let mut a =
                Assignment { id: id.clone(), class_id: class_id.into(), props, resources: vec![], submissions: vec![] };
            if published {
                a.props.insert("status".into(), json!("assigned"));
                a.props.insert("assignedDateTime".into(), json!(created));
                for (i, s) in students.iter().enumerate() {
                    let mut sub = crate::graph::edu::new_submission(&format!("{}/{class_no}/{i}", self.key), &id, s);
                    if i % 3 == 1 {
                        sub.props.insert("status".into(), json!("submitted"));
                        sub.props.insert("submittedDateTime".into(), json!(due));
                        sub.props.insert("submittedBy".into(), identity_set(Some((s, None))));
                    } else if i % 3 == 2 {
                        sub.props.insert("status".into(), json!("returned"));
                        sub.props.insert("submittedDateTime".into(), json!(due));
                        sub.props.insert("submittedBy".into(), identity_set(Some((s, None))));
                        sub.props.insert("returnedDateTime".into(), json!(due));
                        sub.props.insert("returnedBy".into(), identity_set(Some((teacher, None))));
                    }
                    a.submissions.push(sub);
                }
            }
            self.t.class_assignments.entry(class_id.to_string()).or_default().push(id.clone());
            self.t.assignments.insert(id, a);
        }
    }

    fn finish(mut self) -> Built {
        // Baseline: changes recorded while seeding are part of the initial state, not deltas.
        self.t.changes.clear();
        self.t.skus = vec![
            Sku { sku_id: SKU_FACULTY.into(), part: "STANDARDWOFFPACK_FACULTY".into(), enabled: 500 },
            Sku { sku_id: SKU_STUDENT.into(), part: "STANDARDWOFFPACK_STUDENT".into(), enabled: 1_000_000 },
        ];
        Built { tenant: self.t, demo: self.d }
    }
}

/// Builds a district: `schools` schools, `teachers` teachers, `students` students, `classes` classes.
#[allow(clippy::too_many_arguments)]
pub fn district(
    key: &str,
    name: &str,
    domain: &str,
    schools: &[(&str, &str, &str)],
    teachers: usize,
    students: usize,
    classes: usize,
    per_class: usize,
) -> Built {
    let mut c = Ctx::new(key, name, domain);
    let admin = c.add_person("admin", 0, None, true);
    let school_ids: Vec<String> = schools.iter().enumerate().map(|(i, (n, l, h))| c.add_school(i, n, l, h)).collect();
    let nschools = school_ids.len().max(1);
    let teacher_ids: Vec<String> = (0..teachers)
        .map(|i| {
            let s = school_ids.get(i % nschools).cloned();
            c.add_person("teacher", i, s.as_deref(), true)
        })
        .collect();
    let student_ids: Vec<String> = (0..students)
        .map(|i| {
            let s = school_ids.get(i % nschools).cloned();
            c.add_person("student", i, s.as_deref(), i < 50)
        })
        .collect();
    for tid in &teacher_ids {
        if let Some(u) = c.t.users.get_mut(tid) {
            u.manager = Some(admin.clone());
        }
    }
    // Students of school s are those with index % nschools == s.
    let by_school: Vec<Vec<String>> = (0..nschools)
        .map(|s| student_ids.iter().enumerate().filter(|(i, _)| i % nschools == s).map(|(_, id)| id.clone()).collect())
        .collect();
    let list_classes = classes <= 200;
    for n in 0..classes {
        let s = n % nschools;
        let Some(school) = school_ids.get(s).cloned() else {
            break;
        };
        let teachers_in_school: Vec<&String> =
            teacher_ids.iter().enumerate().filter(|(i, _)| i % nschools == s).map(|(_, t)| t).collect();
        let Some(teacher) =
            teachers_in_school.get((n / nschools) % teachers_in_school.len().max(1)).map(|t| (*t).clone())
        else {
            break;
        };
        let pool = &by_school[s];
        let members: Vec<String> = if pool.is_empty() {
            vec![]
        } else {
            (0..per_class.min(pool.len()))
                .map(|k| pool[((n / nschools) * 7 + k) % pool.len()].clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        let cid = c.add_class(n, &school, s + 1, &teacher, &members, list_classes);
        if list_classes {
            c.add_assignments(n, &cid, &teacher, &members);
        }
    }
    // An "All teachers" security group.
    let gid = det_id(&format!("group/{key}/teachers"));
    let props = json!({"id": gid, "displayName": "All Teachers", "description": "All teaching staff", "groupTypes": [], "mail": null, "mailEnabled": false, "mailNickname": "allteachers", "securityEnabled": true, "visibility": null, "createdDateTime": c.created, "deletedDateTime": null});
    if let Value::Object(p) = props {
        c.t.add_group(Group { id: gid, props: p, members: teacher_ids.clone(), owners: vec![admin], class: None });
    }
    c.finish()
}

pub fn demo_tenants() -> Vec<Built> {
    let a = district(
        "contoso",
        "Contoso Unified School District",
        "contosoedu.onmicrosoft.com",
        &[
            ("Contoso High School", "9", "12"),
            ("Contoso Middle School", "6", "8"),
            ("Contoso Elementary School", "1", "5"),
        ],
        10,
        300,
        30,
        25,
    );
    let b = district(
        "fabrikam",
        "Fabrikam Academy",
        "fabrikamacademy.onmicrosoft.com",
        &[("Fabrikam Academy", "6", "12")],
        2,
        20,
        2,
        10,
    );
    vec![a, b]
}

pub fn large_tenant(users: usize) -> Built {
    let teachers = (users / 30).max(1);
    let students = users.saturating_sub(teachers + 1);
    let schools_n = (users / 2000).clamp(1, 50);
    let names: Vec<(String, String, String)> =
        (0..schools_n).map(|i| (format!("Northwind School {}", i + 1), "1".to_string(), "12".to_string())).collect();
    let refs: Vec<(&str, &str, &str)> = names.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    let classes = (students / 25).max(1);
    district(
        "northwind",
        "Northwind School District",
        "northwindschools.onmicrosoft.com",
        &refs,
        teachers,
        students,
        classes,
        25,
    )
}

/// The `i`-th small district of [`crate::Seed::Fleet`]: mixed sizes, from a handful of
/// people to a few hundred (cycling 8, 40, 120, 300 students), one school each.
pub fn fleet_tenant(i: usize) -> Built {
    let students = [8, 40, 120, 300][i % 4];
    let key = format!("fleet{i:04}");
    let name = format!("Fleet {i:04} School District");
    let school = format!("Fleet {i:04} School");
    district(
        &key,
        &name,
        &format!("{key}.onmicrosoft.com"),
        &[(school.as_str(), "1", "12")],
        (students / 20).max(1),
        students,
        (students / 25).max(1),
        25,
    )
}

/// Every 4th student (0, 4, 8, …) already holds the default access role on the app's service
/// principal `sp`, as if someone had assigned them by hand.
pub fn assign_some_students(t: &mut Tenant, sp: &str) {
    #[allow(clippy::needless_collect, reason = "the ids are collected to end the borrow of `t` before it is mutated")]
    let students: Vec<String> = t
        .user_order
        .iter()
        .filter(|id| t.users.get(*id).and_then(|u| u.edu.as_ref()).is_some_and(|e| e.role == "student"))
        .cloned()
        .collect();
    for (i, id) in students.into_iter().enumerate().filter(|(i, _)| i % 4 == 0) {
        t.add_app_role_assignment(AppRoleAssignment {
            id: det_id(&format!("approle/{sp}/{id}")),
            resource_id: sp.to_string(),
            principal_id: id,
            principal_type: "User".into(),
            app_role_id: DEFAULT_ACCESS_ROLE.into(),
            created: iso(1_754_006_400 + i as u64),
        });
    }
}

pub fn demo_app() -> App {
    App {
        client_id: DEMO_APP_CLIENT_ID.into(),
        display_name: "EduGraph (demo)".into(),
        secret: Some(DEMO_APP_SECRET.into()),
        redirect_uris: vec!["http://localhost/auth/callback".into()],
        certificate_der: None,
        any_loopback: true,
        app_permissions: crate::DEFAULT_APP_PERMISSIONS.iter().map(|s| s.to_string()).collect(),
    }
}
