-- Seating charts: one seat per student per class, one student per seat.
CREATE TABLE seating_positions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    class_id TEXT NOT NULL,
    student_object_id TEXT NOT NULL,
    seat_row INTEGER NOT NULL,
    seat_col INTEGER NOT NULL,
    updated_by TEXT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, class_id, student_object_id)
);
CREATE UNIQUE INDEX uq_seat ON seating_positions (tenant_id, class_id, seat_row, seat_col);
