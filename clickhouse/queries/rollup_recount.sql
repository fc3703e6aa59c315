-- Make audit_hour_rows count at least every row of audit_predictions in [since, until): add the
-- difference for hours where it counts fewer (rows that came without an INSERT, or before the
-- counter existed). Counting a row twice is harmless (the hour's rollup is rebuilt); missing one
-- is not, because reports read the stored rows only of hours that are not current.
INSERT INTO audit_hour_rows
SELECT stored.Hour, stored.Rows - counted.Rows
FROM
(
    SELECT toStartOfHour(Timestamp, 'UTC') AS Hour, count() AS Rows
    FROM audit_predictions
    WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    GROUP BY Hour
) AS stored
LEFT JOIN
(
    SELECT Hour, sum(Rows) AS Rows FROM audit_hour_rows GROUP BY Hour
) AS counted ON stored.Hour = counted.Hour
WHERE stored.Rows > counted.Rows
