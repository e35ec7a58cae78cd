//! sea-orm entities: one module per table, data only. Behaviour lives in the domain modules.
pub mod audit_log;
pub mod contact;
pub mod engagement;
pub mod engagement_participant;
pub mod follow_up;
pub mod grant;
pub mod grant_deliverable;
pub mod grant_report;
pub mod meeting;
pub mod meeting_participant;
pub mod organisation;
pub mod post;
pub mod signal;
pub mod state;
pub mod treaty;
pub mod treaty_event;
pub mod user;
