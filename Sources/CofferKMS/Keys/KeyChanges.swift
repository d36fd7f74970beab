import CofferStore

/// Changes to a key's row that may lose a race with another request (docs: a version per row,
/// ``KeyStore/updateKey(_:)``): each is applied to the key as the store has it, checked again, and
/// retried a bounded number of times.
extension KMSService {
    /// How often a change is applied again to a key that changed meanwhile before the request fails.
    static let conflictRetries = 8

    /// How ``modify(_:_:writing:_:)`` writes a changed key.
    enum KeyWrite: Sendable {
        /// Its metadata (``KeyStore/updateKey(_:)``).
        case metadata
        /// Its metadata and its backing keys: imported material set (a backing key) or deleted (nil).
        /// Material other than a related multi-Region key's is IncorrectKeyMaterialException.
        case material(BackingKeyRecord?)
    }

    /// Applies `change` to `key` and writes it, if the key's row is still the one read; when another
    /// change came first, reads the key again, checks `requirement` and applies `change` to it again, so
    /// no acknowledged change is undone (a version per row, ``KeyStore/updateKey(_:)``). Returns the key
    /// as written. Out of attempts: KMSInvalidStateException, as for any change that lost its race.
    @discardableResult
    func modify(
        _ key: KeyRecord, _ requirement: KeyRequirement, writing: KeyWrite = .metadata,
        _ change: (inout KeyRecord) async throws(KMSError) -> Void
    ) async throws(KMSError) -> KeyRecord {
        var current = key
        for _ in 0..<Self.conflictRetries {
            var updated = current
            try await change(&updated)
            let record = updated
            do throws(StoreError) {
                switch writing {
                case .metadata: try await store.updateKey(record)
                case .material(let backing): try await store.replaceBackingKeys(record, with: backing)
                }
                updated.version += 1
                return updated
            } catch  where error.code == .stale {
                current = try await reread(current, requirement)
            } catch  where error.code == .conflict {
                guard case .material(.some) = writing else { throw Self.storeFailure(error) }
                throw KMSError(
                    .incorrectKeyMaterial,
                    "The key material is not the material of the related multi-Region keys of \(Self.keyARN(key.id, in: key.scope))."
                )
            } catch {
                throw Self.storeFailure(error)
            }
        }
        throw KMSError(.invalidState, "The key kept changing while the request ran; try again.")
    }

    /// The key as the store has it now, checked for `requirement` again.
    func reread(_ key: KeyRecord, _ requirement: KeyRequirement) async throws(KMSError) -> KeyRecord {
        guard let fresh = try await storeCall({ () throws(StoreError) in try await store.key(key.scope, id: key.id) })
        else { throw KMSError(.notFound, "Key '\(Self.keyARN(key.id, in: key.scope))' does not exist") }
        try check(fresh, requirement, in: key.scope)
        return fresh
    }

    /// A new backing key that encrypts from now on; older ones still decrypt. A change to the key that
    /// lands meanwhile is kept: the rotation is applied to the key as it is then (the new backing key,
    /// made for this key id, is the same), after checking again that it may rotate — an automatic
    /// rotation only of an enabled primary whose rotation is on and due, an on-demand one only of a key
    /// that is usable and not (now) a replica. Returns whether it rotated.
    @discardableResult
    func rotate(_ key: KeyRecord, origin: BackingKeyRecord.Origin) async throws(KMSError) -> Bool {
        let backing = try await newBackingKey(for: key.id)
        let now = clock()
        let newBackingKey = BackingKeyRecord(
            scope: key.scope, keyID: key.id, backingKeyID: backing.id, token: backing.token, createdAt: now,
            origin: origin)
        var current = key
        for _ in 0..<Self.conflictRetries {
            var updated = current
            if origin == .automatic, let days = current.rotationPeriodDays {
                updated.nextRotationDate = now + Int64(days) * 86_400
            }
            let record = updated
            do throws(StoreError) {
                try await store.rotate(record, newBackingKey: newBackingKey)
                return true
            } catch  where error.code == .stale {
                if origin == .automatic {
                    current = try await reread(current, .any(aliases: false))
                    guard Self.rotationIsDue(current, now: now) else { return false }
                } else {
                    current = try await reread(current, .usable(nil, aliases: false))
                    guard !current.isReplica else {
                        throw KMSError(
                            .unsupportedOperation,
                            "\(Self.keyARN(current.id, in: current.scope)) is a multi-Region replica key; rotate its primary key."
                        )
                    }
                }
            } catch {
                throw Self.storeFailure(error)
            }
        }
        throw KMSError(.invalidState, "The key kept changing while the request ran; try again.")
    }

    /// Whether the scheduler rotates `key` at `now`: an enabled primary (or single-Region key) whose
    /// rotation is on and due.
    static func rotationIsDue(_ key: KeyRecord, now: Int64) -> Bool {
        guard key.state == .enabled, !key.isReplica, key.rotationEnabled, let next = key.nextRotationDate else {
            return false
        }
        return now >= next
    }
}
