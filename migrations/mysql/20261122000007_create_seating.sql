-- Seating charts: one seat per student per class, one student per seat.
CREATE TABLE seating_positions (
    tenant_id CHAR(36) NOT NULL,
    class_id VARCHAR(64) NOT NULL,
    student_object_id CHAR(36) NOT NULL,
    seat_row BIGINT NOT NULL,
    seat_col BIGINT NOT NULL,
    updated_by CHAR(36) NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, class_id, student_object_id),
    UNIQUE KEY uq_seat (tenant_id, class_id, seat_row, seat_col),
    CONSTRAINT fk_seating_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
