//! A contact or staff member who took part in an engagement.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "engagement_participants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub contact_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
