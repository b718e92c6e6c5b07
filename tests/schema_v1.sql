-- Schema 1 as Lookalike created it (frozen: tests build libraries of older versions from it).
CREATE TABLE meta (
	"key" VARCHAR NOT NULL,
	value VARCHAR NOT NULL,
	PRIMARY KEY ("key")
);
CREATE TABLE folders (
	id INTEGER NOT NULL,
	path VARCHAR NOT NULL,
	added_at FLOAT NOT NULL,
	online INTEGER NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (path)
);
CREATE TABLE models (
	"key" VARCHAR NOT NULL,
	dim INTEGER NOT NULL,
	generation INTEGER NOT NULL,
	PRIMARY KEY ("key")
);
CREATE TABLE photos (
	id INTEGER NOT NULL,
	folder_id INTEGER NOT NULL,
	path VARCHAR NOT NULL,
	size INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL,
	hash VARCHAR,
	width INTEGER,
	height INTEGER,
	taken_at FLOAT,
	status VARCHAR NOT NULL,
	error VARCHAR,
	PRIMARY KEY (id),
	FOREIGN KEY(folder_id) REFERENCES folders (id) ON DELETE CASCADE,
	UNIQUE (path)
);
CREATE INDEX ix_photos_folder ON photos (folder_id);
CREATE INDEX ix_photos_hash ON photos (hash);
CREATE TABLE vectors (
	hash VARCHAR NOT NULL,
	model VARCHAR NOT NULL,
	vector BLOB NOT NULL,
	PRIMARY KEY (hash, model),
	FOREIGN KEY(model) REFERENCES models ("key") ON DELETE CASCADE
);
