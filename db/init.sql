-- Bazaar's database: loads unchanged into MySQL 8.4 (docker-entrypoint-initdb.d)
-- and MariaDB 10.11 (the local stack), so it keeps to SQL both accept.
-- The app accounts get default passwords here; compose and the local launcher set
-- the real ones from the environment (ALTER USER) right after this file is loaded.

CREATE DATABASE IF NOT EXISTS bazaar CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE bazaar;

-- Names are unique in the Unicode sense: name_key is the name's key, computed by the
-- apps (lib/src/name-key.ts: NFKC and full case folding) and compared byte for
-- byte, never by a collation. The apps key the cache by the same value, so the
-- database and the cache always agree on which item a name means (a case- and
-- accent-insensitive collation would not: it makes "Tüx" match "Tux"). The key's
-- UTF-8 bytes, as wide as a unique index goes (3072 bytes): a key can be far longer
-- than its name ("ﷺ" is one character, its key 18), and 64 characters of any name
-- give at most 64 × 33 bytes (name-key.test.ts checks every code point).
CREATE TABLE IF NOT EXISTS items (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name       VARCHAR(64)  NOT NULL,
  name_key   VARBINARY(3072) NOT NULL,
  quantity   INT UNSIGNED NOT NULL,
  price      DECIMAL(8,2) NOT NULL,
  -- The row's version: raised by every UPDATE (the trigger below), never lowered.
  -- With the id (never reused) it names one state of the item: the ETag readers
  -- revalidate against (docs/design.md, Cache).
  version    BIGINT UNSIGNED NOT NULL DEFAULT 1,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY items_name_key (name_key),
  -- The storefront's pages are in name order (ORDER BY name, id LIMIT … OFFSET …).
  KEY items_name (name, id),
  CONSTRAINT items_quantity_range CHECK (quantity <= 1000000),
  CONSTRAINT items_price_range CHECK (price >= 0.01 AND price <= 100000.00)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row: how many items were ever inserted or deleted (the triggers below). The
-- list's pages are cached with the value they were read at, and a page read before
-- an insert or delete is never served after it (docs/internals.md, The cache).
-- Purchases never touch this row, so they do not queue on it; only the admin's
-- inserts and deletes do.
CREATE TABLE IF NOT EXISTS catalog_meta (
  id          TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  row_changes BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO catalog_meta (id, row_changes) VALUES (1, 0);

-- The cache's outbox: one row per change of an item, written by the triggers below in
-- the same transaction as the change, whoever makes it (the apps, the procedure, an
-- operator's hand-written SQL). The api's relay applies each row to Redis and deletes
-- it, so a writer that could not reach Redis, or died before it did, still gets its
-- cache entries made current (docs/internals.md, The cache). A row is the item's key
-- and its state after the change: id, version, name, quantity and price — no name for
-- a delete (its version one past the last). `row_changes`, set for an insert or a
-- delete, is catalog_meta's count after it: the list's new floor.
CREATE TABLE IF NOT EXISTS catalog_outbox (
  seq         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  item_id     INT UNSIGNED NOT NULL,
  name_key    VARBINARY(3072) NOT NULL,
  version     BIGINT UNSIGNED NOT NULL,
  name        VARCHAR(64) NULL,
  quantity    INT UNSIGNED NULL,
  price       DECIMAL(8,2) NULL,
  row_changes BIGINT UNSIGNED NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every write to items keeps the versions and the outbox, whoever makes it: no writer
-- can forget.
DROP TRIGGER IF EXISTS items_version;
CREATE TRIGGER items_version BEFORE UPDATE ON items FOR EACH ROW SET NEW.version = OLD.version + 1;
DROP TRIGGER IF EXISTS items_changed;
DROP TRIGGER IF EXISTS items_inserted;
DROP TRIGGER IF EXISTS items_deleted;
DELIMITER //
CREATE TRIGGER items_changed AFTER UPDATE ON items FOR EACH ROW BEGIN
  IF OLD.name_key = NEW.name_key THEN
    INSERT INTO catalog_outbox (item_id, name_key, version, name, quantity, price)
      VALUES (NEW.id, NEW.name_key, NEW.version, NEW.name, NEW.quantity, NEW.price);
  ELSE
    -- A new key (only hand-written SQL renames): the old name is gone, and the list changed.
    UPDATE catalog_meta SET row_changes = row_changes + 1 WHERE id = 1;
    INSERT INTO catalog_outbox (item_id, name_key, version, name, quantity, price, row_changes)
      SELECT OLD.id, OLD.name_key, NEW.version, NULL, NULL, NULL, row_changes FROM catalog_meta WHERE id = 1
      UNION ALL
      SELECT NEW.id, NEW.name_key, NEW.version, NEW.name, NEW.quantity, NEW.price, row_changes
        FROM catalog_meta WHERE id = 1;
  END IF;
END //
CREATE TRIGGER items_inserted AFTER INSERT ON items FOR EACH ROW BEGIN
  UPDATE catalog_meta SET row_changes = row_changes + 1 WHERE id = 1;
  INSERT INTO catalog_outbox (item_id, name_key, version, name, quantity, price, row_changes)
    SELECT NEW.id, NEW.name_key, NEW.version, NEW.name, NEW.quantity, NEW.price, row_changes
      FROM catalog_meta WHERE id = 1;
END //
CREATE TRIGGER items_deleted AFTER DELETE ON items FOR EACH ROW BEGIN
  UPDATE catalog_meta SET row_changes = row_changes + 1 WHERE id = 1;
  INSERT INTO catalog_outbox (item_id, name_key, version, row_changes)
    SELECT OLD.id, OLD.name_key, OLD.version + 1, row_changes FROM catalog_meta WHERE id = 1;
END //
DELIMITER ;

-- An order keeps the item's name and price as they were when it was placed.
CREATE TABLE IF NOT EXISTS orders (
  number     BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  item_id    INT UNSIGNED NOT NULL,
  item_name  VARCHAR(64)  NOT NULL,
  quantity   INT UNSIGNED NOT NULL,
  unit_price DECIMAL(8,2) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  -- The id HAProxy gave the request that placed it: a purchase retried after a web
  -- server died mid-request finds its order instead of placing a second one.
  request_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
  KEY orders_item (item_id),
  UNIQUE KEY orders_request (request_id),
  CONSTRAINT orders_quantity_range CHECK (quantity BETWEEN 1 AND 1000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An admin write's Idempotency-Key (the admin forms send a new one with each form),
-- recorded in the write's own transaction with its answer: a retry of a write whose
-- answer was lost (504) gets that answer instead of making the change twice
-- (admin-api/src/once.ts). `request` is what was asked (method, path, body): a key
-- sent again with another request is refused. Rows older than a day are deleted.
CREATE TABLE IF NOT EXISTS admin_writes (
  idem_key   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  request    TEXT NOT NULL,
  answer     TEXT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY admin_writes_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The timed restocking's rounds (admin-api/src/rounds.ts): each admin-api runs a round
-- at the same moments of the clock, and the one that inserts the round's slot (the
-- time / RESTOCK_EVERY_S) makes it, so several admin-apis restock once per interval.
-- Slots older than a day are deleted.
CREATE TABLE IF NOT EXISTS restock_rounds (
  slot        BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  claimed_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;

INSERT IGNORE INTO items (name, name_key, quantity, price) VALUES
  ('Tux', 'tux', 100, 15.99),
  ('Fox', 'fox', 100, 12.49),
  ('Python', 'python', 100, 19.99),
  ('Whale', 'whale', 80, 24.50),
  ('Gopher', 'gopher', 90, 14.25),
  ('Ferris', 'ferris', 75, 17.00),
  ('Duke', 'duke', 60, 11.75),
  ('Elephant', 'elephant', 70, 21.30),
  ('Octocat', 'octocat', 120, 9.99),
  ('Dolphin', 'dolphin', 50, 13.60);

-- A purchase as one atomic step: lock the item's row, check the stock (and the
-- price the buyer was shown, when given), decrement it and record the order, or
-- change nothing. Answers one row: outcome ('ok' | 'not_found' | 'insufficient' |
-- 'price_changed'), order_number, name, quantity, unit_price, and the item as the
-- purchase leaves it (item_id, item_version, item_quantity, item_price: the api
-- updates the cache's entry in place with them).
-- p_name_key is the item's name key, as items.name_key (the apps compute it).
-- p_price: the unit price the buyer saw, or NULL (the lab's clients send none); a
-- different price now refuses the purchase, so no one pays what they were not shown.
-- A purchase waits at most 3 s for a row lock another transaction holds (a
-- correction, a long-running admin statement, or — with DB_NODES=3 — a purchase
-- whose COMMIT waits while Galera drops a failed writer, about 1.5 s), then gives up
-- with error 1205 and nothing done (the handler rolls back): inside the api's 7 s
-- purchase budget and web's 8 s deadline (API_WRITE_TIMEOUT_MS), so a buyer told
-- "unavailable" was told the truth — the database gave up first and no order exists
-- (docs/internals.md, "Failover: the app's side"). Set per session, for the call only
-- (both MySQL 8.4 and MariaDB 10.11 take it; whole seconds, 1 the least).
DROP PROCEDURE IF EXISTS place_order;
DELIMITER //
CREATE PROCEDURE place_order(
  IN p_name_key VARBINARY(3072), IN p_quantity INT, IN p_request_id VARCHAR(128), IN p_price DECIMAL(8,2)
)
  MODIFIES SQL DATA
  SQL SECURITY DEFINER
BEGIN
  DECLARE v_id INT UNSIGNED DEFAULT NULL;
  DECLARE v_name VARCHAR(64);
  DECLARE v_stock INT UNSIGNED;
  DECLARE v_price DECIMAL(8,2);
  DECLARE v_version BIGINT UNSIGNED;
  DECLARE v_number BIGINT UNSIGNED;
  DECLARE v_request_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin;
  DECLARE v_lock_wait BIGINT UNSIGNED DEFAULT @@SESSION.innodb_lock_wait_timeout;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_id = NULL;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN
    ROLLBACK;
    SET SESSION innodb_lock_wait_timeout = v_lock_wait;
    RESIGNAL;
  END;

  IF p_quantity IS NULL OR p_quantity < 1 OR p_quantity > 1000 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'quantity must be a whole number from 1 to 1000';
  END IF;
  SET SESSION innodb_lock_wait_timeout = 3;

  -- Read committed: the item's row lock is what orders purchases; gap locks on the
  -- orders' request id index would only make concurrent buyers deadlock.
  SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
  START TRANSACTION;
  SELECT id, name, quantity, price, version INTO v_id, v_name, v_stock, v_price, v_version
    FROM items WHERE name_key = p_name_key FOR UPDATE;
  -- A retry of a request already done (same request id, item and quantity) answers
  -- with its order: checked under the item's lock, so a retry racing its original
  -- waits for it. An id reused for another purchase (a client sending its own fixed
  -- X-Request-Id straight to a web server) places a new order without the id.
  -- The id in the column's own character set and collation, so the unique index
  -- is used (a parameter has the database's default collation: a full scan).
  SET v_request_id = CAST(p_request_id AS CHAR(128) CHARACTER SET ascii) COLLATE ascii_bin;
  SET v_number = (SELECT number FROM orders WHERE request_id = v_request_id AND item_id = v_id AND quantity = p_quantity);
  IF v_number IS NULL AND EXISTS (SELECT 1 FROM orders WHERE request_id = v_request_id) THEN
    SET v_request_id = NULL;
  END IF;
  IF v_number IS NOT NULL THEN
    ROLLBACK;
    SELECT 'ok' AS outcome, number AS order_number, item_name AS name, quantity, unit_price,
        v_id AS item_id, v_version AS item_version, v_stock AS item_quantity, v_price AS item_price
      FROM orders WHERE number = v_number;
  ELSEIF v_id IS NULL THEN
    ROLLBACK;
    SELECT 'not_found' AS outcome, NULL AS order_number, NULL AS name, NULL AS quantity, NULL AS unit_price,
      NULL AS item_id, NULL AS item_version, NULL AS item_quantity, NULL AS item_price;
  ELSEIF p_price IS NOT NULL AND p_price <> v_price THEN
    ROLLBACK;
    SELECT 'price_changed' AS outcome, NULL AS order_number, v_name AS name, v_stock AS quantity,
      v_price AS unit_price, v_id AS item_id, v_version AS item_version, v_stock AS item_quantity,
      v_price AS item_price;
  ELSEIF v_stock < p_quantity THEN
    ROLLBACK;
    SELECT 'insufficient' AS outcome, NULL AS order_number, v_name AS name, v_stock AS quantity,
      v_price AS unit_price, v_id AS item_id, v_version AS item_version, v_stock AS item_quantity,
      v_price AS item_price;
  ELSE
    UPDATE items SET quantity = quantity - p_quantity WHERE id = v_id;
    INSERT INTO orders (item_id, item_name, quantity, unit_price, request_id) VALUES (v_id, v_name, p_quantity, v_price, v_request_id);
    SET v_number = LAST_INSERT_ID();
    COMMIT;
    -- The version the update's trigger gave the row (items_version: one more).
    SELECT 'ok' AS outcome, v_number AS order_number, v_name AS name, p_quantity AS quantity,
      v_price AS unit_price, v_id AS item_id, v_version + 1 AS item_version,
      v_stock - p_quantity AS item_quantity, v_price AS item_price;
  END IF;
  SET SESSION innodb_lock_wait_timeout = v_lock_wait;
END //
DELIMITER ;

-- Least privilege. The read API may read, and change data only by a purchase:
-- the database itself refuses it an INSERT, UPDATE or DELETE on items.
CREATE USER IF NOT EXISTS 'bazaar_api'@'%' IDENTIFIED BY 'bazaar-api-password';
GRANT SELECT ON bazaar.items TO 'bazaar_api'@'%';
GRANT SELECT ON bazaar.orders TO 'bazaar_api'@'%';
GRANT SELECT ON bazaar.catalog_meta TO 'bazaar_api'@'%';
-- The relay in the api applies the cache's outbox to Redis and deletes what it applied.
GRANT SELECT, DELETE ON bazaar.catalog_outbox TO 'bazaar_api'@'%';
GRANT EXECUTE ON PROCEDURE bazaar.place_order TO 'bazaar_api'@'%';

-- The admin API writes items and reads orders; it cannot forge or erase an order.
CREATE USER IF NOT EXISTS 'bazaar_admin'@'%' IDENTIFIED BY 'bazaar-admin-password';
GRANT SELECT, INSERT, UPDATE, DELETE ON bazaar.items TO 'bazaar_admin'@'%';
GRANT SELECT ON bazaar.orders TO 'bazaar_admin'@'%';
GRANT SELECT ON bazaar.catalog_meta TO 'bazaar_admin'@'%';
GRANT SELECT, INSERT, DELETE ON bazaar.admin_writes TO 'bazaar_admin'@'%';
GRANT SELECT, INSERT, DELETE ON bazaar.restock_rounds TO 'bazaar_admin'@'%';

FLUSH PRIVILEGES;
