namespace History;

/// <summary>
/// Judges a recorded history, and the users the service lists once its faults are healed, against the
/// promises of docs/reliability.md. A write's effect is known by its token (the display name it wrote), so
/// every version of a user the answers show is traced to the request that made it. A write took effect
/// somewhere between its first attempt's start and the end of its last: of the one the service
/// acknowledged, or of its last 503 if none was, and then possibly later still (<see cref="Forever"/>).
/// </summary>
public static class Checker
{
    /// <summary>How long an answer may take at most.</summary>
    public static readonly TimeSpan Promised = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Forever = TimeSpan.MaxValue;

    /// <summary>
    /// The verdict on <paramref name="history"/>. A request without an answer, or answered after
    /// <see cref="Promised"/>, is a violation, unless it was in flight during one of the <paramref name="cuts"/>:
    /// a service replica killed and started again, which cuts the requests on it, and sends its load to the
    /// other replica, or to the proxy's wait for the new process, until it is back.
    /// </summary>
    public static Verdict Check(IReadOnlyList<Operation> history, IReadOnlyList<Observed> final, IReadOnlyList<string> faults, IReadOnlyList<Window>? cuts = null)
    {
        var violations = new Violations();
        var writes = history.Where(operation => operation.IsWrite).GroupBy(operation => operation.Logical).Select(Write.Of).ToList();
        var byToken = writes.Where(write => write.Token is not null).ToDictionary(write => write.Token!);
        var observed = history.SelectMany(operation => operation.Seen).Concat(final).ToList();

        // A create not acknowledged is known by where its token was seen.
        foreach (var seen in observed)
        {
            if (seen.Token is not null && byToken.GetValueOrDefault(seen.Token) is { Kind: OperationKind.Create, UserId: null } create)
            {
                create.UserId = seen.Id;
            }
        }

        var byUser = writes.Where(write => write.UserId is not null).ToLookup(write => write.UserId!.Value);

        CheckAnswers(history, cuts ?? [], violations);
        CheckIds(writes, byToken, observed, violations);
        CheckNotApplied(byToken, observed, violations);
        CheckFinalState(writes, byToken, byUser, final, violations);
        CheckReads(history, writes, byToken, byUser, violations);

        var createdAt = writes.Where(write => write is { Kind: OperationKind.Create, Acknowledged: not null }).Select(write => write.Acknowledged!.Value).Order().ToList();
        var (first, last) = history.Count == 0 ? (TimeSpan.Zero, TimeSpan.Zero) : (history.Min(operation => operation.Start), history.Max(operation => operation.End));
        var gaps = createdAt.Prepend(first).Append(last).ToList();
        return new Verdict(
            Requests: history.Count,
            AcknowledgedWrites: writes.Count(write => write.Acknowledged is not null),
            Statuses: history.GroupBy(operation => operation.Status).OrderBy(group => group.Key).ToDictionary(group => group.Key, group => group.Count()),
            Faults: faults.GroupBy(fault => fault).ToDictionary(group => group.Key, group => group.Count()),
            Violations: violations.ByKind,
            Slowest: history.Count == 0 ? TimeSpan.Zero : history.Max(operation => operation.Took),
            LongestWithoutCreate: gaps.Zip(gaps.Skip(1), (before, after) => after - before).DefaultIfEmpty().Max(),
            Duration: last - first);
    }

    private static void CheckAnswers(IReadOnlyList<Operation> history, IReadOnlyList<Window> cuts, Violations violations)
    {
        foreach (var operation in history)
        {
            var cut = cuts.Any(window => window.Overlaps(operation));
            if (operation.Status == 0 && cut)
            {
                continue;
            }

            if (operation.Status == 0)
            {
                violations.Add("no answer", $"{operation.Kind} by client {operation.Client} at {operation.Start.TotalSeconds:0.000} s");
            }
            else if (operation.Status >= 500 && operation.Status != 503)
            {
                violations.Add("5xx other than 503", $"{operation.Kind} answered {operation.Status} at {operation.Start.TotalSeconds:0.000} s");
            }

            if (operation.Took > Promised && !cut)
            {
                violations.Add("slower than 2 s", $"{operation.Kind} answered {operation.Status} after {operation.Took.TotalMilliseconds:N0} ms at {operation.Start.TotalSeconds:0.000} s");
            }
        }
    }

    /// <summary>Ids are never issued twice and only increase; a create lands once, on the id it was answered with.</summary>
    private static void CheckIds(List<Write> writes, Dictionary<string, Write> byToken, List<Observed> observed, Violations violations)
    {
        var created = writes.Where(write => write is { Kind: OperationKind.Create, Acknowledged: not null }).ToList();
        foreach (var group in created.GroupBy(write => write.UserId).Where(group => group.Count() > 1))
        {
            violations.Add("id issued twice", $"id {group.Key} answered to {group.Count()} creates: {string.Join(", ", group.Select(write => write.Token))}");
        }

        // Every create that was acknowledged before this one began has a lower id.
        var byAcknowledgement = created.OrderBy(write => write.Acknowledged).ToList();
        var (next, highest) = (0, (Write?)null);
        foreach (var create in created.OrderBy(write => write.FirstStart))
        {
            for (; next < byAcknowledgement.Count && byAcknowledgement[next].Acknowledged < create.FirstStart; next++)
            {
                highest = highest is null || byAcknowledgement[next].UserId > highest.UserId ? byAcknowledgement[next] : highest;
            }

            if (highest is not null && highest.UserId > create.UserId)
            {
                violations.Add("id went back", $"'{create.Token}' got id {create.UserId} after '{highest.Token}' had got {highest.UserId}");
            }
        }

        foreach (var seen in observed.Where(seen => seen.Token is not null).DistinctBy(seen => (seen.Id, seen.Token)))
        {
            if (byToken.GetValueOrDefault(seen.Token!) is { Kind: OperationKind.Create } create && create.UserId != seen.Id)
            {
                violations.Add("create landed twice", $"'{create.Token}' answered with id {create.UserId}, seen as user {seen.Id}");
            }
        }

        // A create sent again with its key answers what its first landing did: never a refusal of its own user.
        var landed = observed.Select(seen => seen.Token).ToHashSet();
        foreach (var create in writes.Where(write => write is { Kind: OperationKind.Create, HasKey: true, Final: 409 or 422 }))
        {
            if (landed.Contains(create.Token))
            {
                violations.Add("retried create refused its own user", $"'{create.Token}' answered {create.Final}, and was made as user {create.UserId}");
            }
        }
    }

    /// <summary>A write every attempt of which said it was not applied never shows.</summary>
    private static void CheckNotApplied(Dictionary<string, Write> byToken, List<Observed> observed, Violations violations)
    {
        foreach (var seen in observed.Where(seen => seen.Token is not null).DistinctBy(seen => seen.Token))
        {
            if (byToken.GetValueOrDefault(seen.Token!) is { Refused: true } refused)
            {
                violations.Add("not-applied write landed", $"'{refused.Token}' ({refused.Kind}, answered {refused.Final}) shows on user {seen.Id}");
            }
        }
    }

    /// <summary>Every acknowledged write is in the final state, unless a write not over before it began explains what is there.</summary>
    private static void CheckFinalState(List<Write> writes, Dictionary<string, Write> byToken, ILookup<long, Write> byUser, IReadOnlyList<Observed> final, Violations violations)
    {
        var finalById = final.ToDictionary(user => user.Id);
        foreach (var write in writes.Where(write => write.Acknowledged is not null && write.UserId is not null))
        {
            var id = write.UserId!.Value;
            var explained = finalById.GetValueOrDefault(id) is { } user
                ? user.Token == write.Token || user.Token is null || byToken.GetValueOrDefault(user.Token) is not { } other || other.UserId == id && other.MayFollow(write)
                : byUser[id].Any(delete => delete.Kind == OperationKind.Delete && delete.MayFollow(write));
            if (!explained)
            {
                violations.Add("acknowledged write lost", $"{write.Kind} '{write.Token}' of user {id}, acknowledged at {write.Acknowledged!.Value.TotalSeconds:0.000} s: the user is now {(finalById.TryGetValue(id, out var now) ? $"'{now.Token}'" : "gone")}");
            }
        }

        foreach (var field in new Func<Observed, string>[] { user => user.Username, user => user.Email })
        {
            foreach (var group in final.GroupBy(user => field(user).ToLowerInvariant()).Where(group => group.Count() > 1))
            {
                violations.Add("value held twice", $"'{group.Key}' is held by users {string.Join(", ", group.Select(user => user.Id))}");
            }
        }
    }

    /// <summary>A read that starts after a write was acknowledged sees that write or one not over before it began.</summary>
    private static void CheckReads(IReadOnlyList<Operation> history, List<Write> writes, Dictionary<string, Write> byToken, ILookup<long, Write> byUser, Violations violations)
    {
        var byUsername = writes.Where(write => write.Kind != OperationKind.Delete && write is { Acknowledged: not null, UserId: not null, Username: not null })
            .ToLookup(write => write.Username!, StringComparer.OrdinalIgnoreCase);
        foreach (var read in history.Where(operation => !operation.IsWrite))
        {
            foreach (var seen in read.Seen)
            {
                var made = seen.Token is null ? null : byToken.GetValueOrDefault(seen.Token);
                if (made is null)
                {
                    continue;
                }

                foreach (var write in byUser[seen.Id].Where(write => write != made && write.Acknowledged < read.Start))
                {
                    if (write.Kind == OperationKind.Delete || made.LastEnd < write.FirstStart)
                    {
                        violations.Add("stale read", $"{read.Kind} at {read.Start.TotalSeconds:0.000} s saw user {seen.Id} as '{seen.Token}', after {write.Kind} '{write.Token}' was acknowledged at {write.Acknowledged!.Value.TotalSeconds:0.000} s");
                    }
                }
            }

            if (read is { Kind: OperationKind.Get, Status: 404, UserId: { } missing })
            {
                foreach (var write in byUser[missing].Where(write => write.Kind != OperationKind.Delete && write.Acknowledged < read.Start))
                {
                    if (!byUser[missing].Any(delete => delete.Kind == OperationKind.Delete && delete.MayFollow(write) && delete.FirstStart < read.End))
                    {
                        violations.Add("stale read", $"Get at {read.Start.TotalSeconds:0.000} s found no user {missing}, after {write.Kind} '{write.Token}' was acknowledged at {write.Acknowledged!.Value.TotalSeconds:0.000} s");
                    }
                }
            }

            if (read is { Kind: OperationKind.Lookup, Status: 200, Seen.Count: 0, Username: { } username })
            {
                foreach (var write in byUsername[username].Where(write => write.Acknowledged < read.Start))
                {
                    if (!byUser[write.UserId!.Value].Any(other => other != write && other.MayFollow(write) && other.FirstStart < read.End))
                    {
                        violations.Add("stale read", $"Lookup of '{username}' at {read.Start.TotalSeconds:0.000} s found nobody, after {write.Kind} '{write.Token}' gave it to user {write.UserId} at {write.Acknowledged!.Value.TotalSeconds:0.000} s");
                    }
                }
            }
        }
    }

    /// <summary>One logical write: its attempts taken together.</summary>
    private sealed class Write
    {
        public required OperationKind Kind { get; init; }

        public required string? Token { get; init; }

        public required string? Username { get; init; }

        public required bool HasKey { get; init; }

        public required TimeSpan FirstStart { get; init; }

        /// <summary>The latest it may have taken effect: <see cref="Forever"/> when no answer settled it.</summary>
        public required TimeSpan LastEnd { get; init; }

        /// <summary>When the service acknowledged it, if it did.</summary>
        public required TimeSpan? Acknowledged { get; init; }

        /// <summary>Every attempt said it was not applied.</summary>
        public required bool Refused { get; init; }

        /// <summary>The last attempt's status.</summary>
        public required int Final { get; init; }

        public long? UserId { get; set; }

        /// <summary>Whether this write may have taken effect after <paramref name="earlier"/> did: it was applied, or may have been, and was not over before that one began.</summary>
        public bool MayFollow(Write earlier) => !Refused && LastEnd >= earlier.FirstStart;

        public static Write Of(IGrouping<long, Operation> attempts)
        {
            var ordered = attempts.OrderBy(attempt => attempt.Start).ToList();
            var (first, last) = (ordered[0], ordered[^1]);
            var acknowledged = ordered.FirstOrDefault(attempt => attempt.Succeeded);
            var refused = ordered.All(attempt => attempt.NotApplied);
            return new Write
            {
                Kind = first.Kind,
                Token = first.Token,
                Username = first.Username,
                HasKey = first.IdempotencyKey is not null,
                FirstStart = first.Start,
                LastEnd = acknowledged?.End ?? (refused ? last.End : Forever),
                Acknowledged = acknowledged?.End,
                Refused = refused,
                Final = last.Status,
                UserId = first.Kind == OperationKind.Create ? acknowledged?.UserId : first.UserId,
            };
        }
    }

    private sealed class Violations
    {
        private const int Examples = 5;

        public Dictionary<string, (int Count, List<string> Examples)> ByKind { get; } = [];

        public void Add(string kind, string example)
        {
            var (count, examples) = ByKind.GetValueOrDefault(kind, (0, []));
            if (examples.Count < Examples)
            {
                examples.Add(example);
            }

            ByKind[kind] = (count + 1, examples);
        }
    }
}
