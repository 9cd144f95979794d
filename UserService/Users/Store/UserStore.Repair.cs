using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>What a repair did: claims and order entries it changed, and unreadable documents it moved to the quarantine.</summary>
public readonly record struct RepairResult(int Changed, int Quarantined)
{
    public static RepairResult operator +(RepairResult left, RepairResult right) =>
        new(left.Changed + right.Changed, left.Quarantined + right.Quarantined);
}

/// <summary>The repair's passes, in the order they run.</summary>
public enum RepairPhase
{
    Usernames,
    Emails,
    Documents,
    Order,
    Done,
}

/// <summary>
/// Where a repair is: the pass, the part of the store it is in (a store node for the claim passes, a bucket
/// for the others), and the scan cursor within it (0: at its start).
/// </summary>
public readonly record struct RepairPosition(RepairPhase Phase, int Part, long Cursor)
{
    public static readonly RepairPosition Start = new(RepairPhase.Usernames, 0, 0);
}

public sealed partial class UserStore
{
    /// <summary>Entries the store is asked for in one step of a scan.</summary>
    public const int DefaultRepairBatch = 250;

    /// <summary>A whole repair at once, without pauses: what the tests of crash damage call.</summary>
    public Task<RepairResult> RepairAsync(CancellationToken cancellationToken) =>
        RepairAsync(RepairPosition.Start, DefaultRepairBatch, static (_, _, _) => Task.CompletedTask, cancellationToken);

    /// <summary>
    /// Brings claims and order back in line with the documents, one batch at a time from <paramref name="from"/>,
    /// holding no more than a batch: first every claim older than <see cref="StoreLayout.ClaimGrace"/> whose
    /// user does not hold its value is removed; then each document is read, an unreadable one goes to its
    /// bucket's quarantine, and a readable one gets the claims and order entry it lacks; last, order entries
    /// without a document go. Each change is a conditional script, so writes that race the repair win, and it
    /// is safe while the service serves. After every batch <paramref name="afterBatch"/> is told where the
    /// repair is and how many entries the batch held: there it keeps the position, and pauses.
    /// </summary>
    public async Task<RepairResult> RepairAsync(
        RepairPosition from, int batch, Func<RepairPosition, int, CancellationToken, Task> afterBatch, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var nodes = ScanTargets(database);
        var result = new RepairResult();
        for (var position = from; position.Phase != RepairPhase.Done;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (page, entries, step) = position.Phase switch
            {
                RepairPhase.Usernames => await ClaimPageAsync(nodes[position.Part], StoreLayout.UsernameClaims, position.Cursor, batch, Field.Username),
                RepairPhase.Emails => await ClaimPageAsync(nodes[position.Part], StoreLayout.EmailClaims, position.Cursor, batch, Field.Email),
                RepairPhase.Documents => await BucketPageAsync(database, "HSCAN", StoreLayout.Data, position, batch, RepairDocumentsAsync),
                _ => await BucketPageAsync(database, "ZSCAN", StoreLayout.Order, position, batch, RepairOrderAsync),
            };
            result += step;
            if (step.Changed + step.Quarantined > 0)
            {
                await database.StringSetAsync(StoreLayout.Generation, StoreLayout.NewGeneration());
            }

            position = Next(position, page, position.Phase is RepairPhase.Usernames or RepairPhase.Emails ? nodes.Length : StoreLayout.Buckets);
            await afterBatch(position, entries, cancellationToken);
        }

        return result;
    }

    private static RepairPosition Next(RepairPosition position, long cursor, int parts) =>
        cursor != 0 ? position with { Cursor = cursor }
        : position.Part + 1 < parts ? new(position.Phase, position.Part + 1, 0)
        : new(position.Phase + 1, 0, 0);

    /// <summary>
    /// Where the claim passes scan: each primary of a cluster, whose keys a scan of the database would not
    /// reach; the database itself on a single node (which may be one of several on it).
    /// </summary>
    private Func<string, long, int, Task<RedisResult>>[] ScanTargets(IDatabase database)
    {
        var primaries = redis.GetServers().Where(server => server.ServerType == ServerType.Cluster && !server.IsReplica)
            .OrderBy(server => server.EndPoint.ToString(), StringComparer.Ordinal).ToArray();
        return primaries.Length == 0
            ? [(pattern, cursor, count) => database.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", count)]
            : [.. primaries.Select(server => (Func<string, long, int, Task<RedisResult>>)((pattern, cursor, count) => server.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", count)))];
    }

    /// <summary>One page of a scan of the bucket key <paramref name="key"/> names for the position's bucket, repaired.</summary>
    private static async Task<(long Cursor, int Entries, RepairResult Result)> BucketPageAsync(
        IDatabase database, string scan, Func<int, RedisKey> key, RepairPosition position, int batch, Func<IDatabase, int, RedisValue[], Task<RepairResult>> repair)
    {
        var page = (RedisResult[])(await database.ExecuteAsync(scan, key(position.Part), position.Cursor, "COUNT", batch))!;
        var entries = (RedisValue[])page[1]!;
        return ((long)page[0], entries.Length / 2, await repair(database, position.Part, entries));
    }

    /// <summary>Removes the claims in one page of a scan whose user does not hold their value, once they are old enough.</summary>
    private async Task<(long Cursor, int Entries, RepairResult Result)> ClaimPageAsync(
        Func<string, long, int, Task<RedisResult>> scan, string pattern, long cursor, int batch, Field field)
    {
        var page = (RedisResult[])(await scan(pattern, cursor, batch))!;
        var keys = ((RedisValue[])page[1]!).Select(key => (RedisKey)(string)key!).ToArray();
        var database = redis.GetDatabase();
        var values = await Task.WhenAll(keys.Select(key => database.StringGetAsync(key)));
        var owners = values.Select(value => Claim.Parse(value)?.Id).ToArray();
        var users = await UsersAsync(database, owners.OfType<long>());

        var leftovers = Enumerable.Range(0, keys.Length).Where(i => !values[i].IsNull
            && !(owners[i] is { } owner && users.TryGetValue(owner, out var user) && Holds(user, new WantedClaim(field, keys[i], ((string)keys[i]!)[(pattern.Length - 1)..]))));
        var removed = await Task.WhenAll(leftovers.Select(i => Claim.RemoveLeftoverAsync(database, keys[i], values[i])));

        return ((long)page[0], keys.Length, new RepairResult(removed.Count(reply => reply.Answer == StoreLayout.ScriptAnswer.Released), 0));
    }

    /// <summary>The readable users among <paramref name="ids"/>, read a bucket at a time, every bucket at once.</summary>
    private async Task<Dictionary<long, User>> UsersAsync(IDatabase database, IEnumerable<long> ids)
    {
        var reads = ids.Distinct().GroupBy(StoreLayout.BucketOf)
            .Select(async bucket =>
            {
                var members = bucket.ToArray();
                return members.Zip(await database.HashGetAsync(StoreLayout.Data(bucket.Key), [.. members.Select(id => (RedisValue)id)]));
            });
        var users = new Dictionary<long, User>();
        foreach (var (id, document) in (await Task.WhenAll(reads)).SelectMany(found => found))
        {
            if (!document.IsNull && TryRead(id, document) is { } user)
            {
                users[id] = user;
            }
        }

        return users;
    }

    /// <summary>
    /// Quarantines the unreadable documents among <paramref name="entries"/> (id, document pairs), and gives
    /// each readable one the claims and order entry it lacks. The claims and order entries are read for the
    /// whole batch at once; only what is missing costs a call of its own.
    /// </summary>
    private async Task<RepairResult> RepairDocumentsAsync(IDatabase database, int bucket, RedisValue[] entries)
    {
        var result = new RepairResult();
        var users = new List<(long Id, User User)>(entries.Length / 2);
        for (var i = 0; i + 1 < entries.Length; i += 2)
        {
            var id = (long)entries[i];
            if (TryRead(id, entries[i + 1]) is { } user)
            {
                users.Add((id, user));
                continue;
            }

            var quarantined = await StoreLayout.QuarantineDocumentAsync(database, id, entries[i + 1]);
            result += new RepairResult(0, quarantined.Answer == StoreLayout.ScriptAnswer.Quarantined ? 1 : 0);
        }

        var wanted = users.Select(user => Wanted(FieldsOf(user.User))).ToArray();
        var claims = await Task.WhenAll(wanted.Select(pair => Task.WhenAll(pair.Select(claim => database.StringGetAsync(claim.Key)))));
        var listed = users.Count == 0 ? [] : await database.SortedSetScoresAsync(StoreLayout.Order(bucket), [.. users.Select(user => (RedisValue)user.Id)]);
        var token = Random.Shared.NextInt64().ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        for (var u = 0; u < users.Count; u++)
        {
            var id = users[u].Id;
            for (var c = 0; c < wanted[u].Length; c++)
            {
                // A value another user holds stays theirs; a leftover older than the grace is taken over.
                if (Claim.Parse(claims[u][c])?.Id != id && (await ClaimOneAsync(id, token, wanted[u][c])).Held is not null)
                {
                    result += new RepairResult(1, 0);
                }
            }

            if (listed[u] is null)
            {
                result += new RepairResult(await ReconcileOrderAsync(database, bucket, id), 0);
            }
        }

        return result;
    }

    /// <summary>Removes the order entries among <paramref name="entries"/> (id, score pairs) that have no document.</summary>
    private static async Task<RepairResult> RepairOrderAsync(IDatabase database, int bucket, RedisValue[] entries)
    {
        var ids = Enumerable.Range(0, entries.Length / 2).Select(i => entries[2 * i]).ToArray();
        var exists = await Task.WhenAll(ids.Select(id => database.HashExistsAsync(StoreLayout.Data(bucket), id)));
        var changed = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            if (!exists[i])
            {
                changed += await ReconcileOrderAsync(database, bucket, (long)ids[i]);
            }
        }

        return new RepairResult(changed, 0);
    }

    private static async Task<int> ReconcileOrderAsync(IDatabase database, int bucket, long id) =>
        (await StoreLayout.ReconcileOrderAsync(database, bucket, id)).Answer == StoreLayout.ScriptAnswer.Applied ? 1 : 0;
}
