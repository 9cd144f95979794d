using System.Globalization;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// The one place that knows how users are laid out in Redis, and the scripts that change them. The layout
/// shards by user, so that it runs on Redis Cluster as it runs on one node:
/// <list type="bullet">
/// <item>users live in <see cref="Buckets"/> buckets by id; bucket <c>b</c> has a hash from id to the user's
/// JSON document (<see cref="Data"/>), a sorted set of its ids for keyset pagination (<see cref="Order"/>), the
/// outcomes of the creates under an idempotency key that made its users (<see cref="IdempotencyOutcome"/>)
/// and its <see cref="Quarantine"/>, all under the hash tag <c>{b}</c>, so in one slot: a bucket's script may
/// touch all of them;</item>
/// <item>each username and email is a claim key of its own (<see cref="UsernameClaim"/>,
/// <see cref="EmailClaim"/>), whose value names the user that holds it (<see cref="Claim"/>): claims land
/// in slots of their own, and uniqueness costs one key per value, not one hash for all;</item>
/// <item><see cref="NextId"/>, the id counter, one key for all buckets so that ids follow the order of
/// creation; <see cref="Generation"/>, set anew after every write, keys the cached reads.</item>
/// </list>
/// <para>
/// A write takes several steps on several slots, in an order where a crash between any two leaves only claims
/// that point at no user, or at a user who does not hold the value: a create claims its username and email,
/// then writes its document; a rename claims the new value, writes the document, then gives the old claim up.
/// Readers ignore such leftovers, a later write takes one over once it is older than
/// <see cref="ClaimGrace"/>, and the repair removes them. So a user's document is never visible without the
/// claims of its values, and no two users ever hold one value.
/// </para>
/// <para>
/// Within a bucket a script still writes in an order where any prefix is safe (Garnet replays a script's writes
/// one by one after a crash): the order entry before the document, the document before its removal.
/// Scripts name every key they touch (Garnet locks exactly those). The benchmark's baseline compiles this
/// file too, so that it reads the same layout the same way.
/// </para>
/// </summary>
public static partial class StoreLayout
{
    /// <summary>
    /// How many buckets the users are spread over: the most store primaries a layout can use. A page reads
    /// every bucket, so more is dearer for every list; 16 shards 100 million users to about 3.4 GB per bucket.
    /// </summary>
    public const int Buckets = 16;

    /// <summary>
    /// How old a claim that names a user who does not hold its value must be before another write may take it
    /// over: until then it may belong to a write still in flight. See <see cref="WriteDeadline"/>. A claim
    /// stamped as far ahead of the store's clock is taken as left over too: only a clock that ran ahead and was
    /// set back, or a failover to a node whose clock is behind, stamps one, and it would otherwise block its
    /// value for as long as the clocks were apart.
    /// </summary>
    public static readonly TimeSpan ClaimGrace = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after its claims a write may still write its document: the store refuses it later, and the
    /// write claims again. Half of <see cref="ClaimGrace"/>, so that no claim is taken over from a write that
    /// can still land, even with the clocks of two store nodes some seconds apart. Claims stamped as far ahead
    /// of the document's node are refused the same way, so that a write never counts on a claim that
    /// <see cref="ClaimGrace"/> lets another write take over for being stamped in the future.
    /// </summary>
    public static readonly TimeSpan WriteDeadline = TimeSpan.FromSeconds(5);

    /// <summary>Which layout the store holds: absent on a store written before the buckets (see <c>LegacyLayout</c>).</summary>
    public static readonly RedisKey Layout = "users:layout";

    /// <summary>The value of <see cref="Layout"/> for this layout.</summary>
    public const string CurrentLayout = "buckets-16";

    public static readonly RedisKey NextId = "users:next-id";
    public static readonly RedisKey Generation = "users:generation";

    /// <summary>
    /// A new value for <see cref="Generation"/>: random, so that no two writes set the same one, even after a
    /// failover took the store back to an earlier value. A counter would then count the same values again, and
    /// answers cached under them before the failover would be served for writes made after it. A number, so
    /// that a replica of an earlier version, which increments it, still moves it on.
    /// </summary>
    public static RedisValue NewGeneration() => Random.Shared.NextInt64(1, long.MaxValue / 2);

    private static readonly RedisKey[] DataKeys = BucketKeys("data");
    private static readonly RedisKey[] OrderKeys = BucketKeys("order");
    private static readonly RedisKey[] QuarantineKeys = BucketKeys("quarantine");

    private static RedisKey[] BucketKeys(string name) =>
        [.. Enumerable.Range(0, Buckets).Select(bucket => (RedisKey)string.Create(CultureInfo.InvariantCulture, $"users:{{{bucket}}}:{name}"))];

    /// <summary>The bucket of the user with this id; a negative id, which no user has, still names one.</summary>
    public static int BucketOf(long id) => (int)((ulong)id % Buckets);

    /// <summary>A hash from id to document: every user whose id is in <paramref name="bucket"/>.</summary>
    public static RedisKey Data(int bucket) => DataKeys[bucket];

    /// <summary>The <see cref="Data(int)"/> that holds the user with this id.</summary>
    public static RedisKey DataOf(long id) => DataKeys[BucketOf(id)];

    /// <summary>The ids in <paramref name="bucket"/>, each scored by itself, for keyset pagination.</summary>
    public static RedisKey Order(int bucket) => OrderKeys[bucket];

    /// <summary>A hash from id to a document the service could not read, kept for an operator.</summary>
    public static RedisKey Quarantine(int bucket) => QuarantineKeys[bucket];

    /// <summary>The claim of a username, lowercased as the service compares them.</summary>
    public static RedisKey UsernameClaim(string value) => "users:username:" + value;

    /// <summary>The claim of an email, lowercased as the service compares them.</summary>
    public static RedisKey EmailClaim(string value) => "users:email:" + value;

    /// <summary>What the repair scans for to find every claim: <see cref="UsernameClaim"/> and <see cref="EmailClaim"/> keys.</summary>
    public const string UsernameClaims = "users:username:*";

    /// <inheritdoc cref="UsernameClaims"/>
    public const string EmailClaims = "users:email:*";

    /// <summary>
    /// Up to <paramref name="count"/> users with an id above <paramref name="after"/>, in id order, as id and
    /// document (null where the user went between the two reads), and whether more follow. Every bucket is
    /// asked for its first ids at once, the lowest <paramref name="count"/> of them are taken, and only their
    /// documents are read, again a request per bucket at once.
    /// </summary>
    public static async Task<(List<(long Id, RedisValue Document)> Users, bool More)> PageAsync(IDatabase database, long after, int count)
    {
        var ranges = new Task<RedisValue[]>[Buckets];
        for (var bucket = 0; bucket < Buckets; bucket++)
        {
            ranges[bucket] = database.SortedSetRangeByScoreAsync(Order(bucket), after, double.PositiveInfinity, Exclude.Start, take: count + 1);
        }

        var ids = new List<long>();
        foreach (var range in ranges)
        {
            ids.AddRange((await range).Select(id => (long)id));
        }

        ids.Sort();
        var more = ids.Count > count;
        if (more)
        {
            ids.RemoveRange(count, ids.Count - count);
        }

        var reads = ids.GroupBy(BucketOf).Select(group => (Ids: group.ToArray(), Documents: database.HashGetAsync(Data(group.Key), [.. group.Select(id => (RedisValue)id)]))).ToList();
        var documents = new Dictionary<long, RedisValue>(ids.Count);
        foreach (var (bucketIds, read) in reads)
        {
            var found = await read;
            for (var i = 0; i < bucketIds.Length; i++)
            {
                documents[bucketIds[i]] = found[i];
            }
        }

        return ([.. ids.Select(id => (id, documents[id]))], more);
    }

    /// <summary>
    /// Writes users straight into the layout, with their claims (set at store time 0, so as old as can be),
    /// without any of a create's checks: how a benchmark or a test fills a store quickly. Usernames and emails
    /// must be unique and lowercase; the id counter is left to the caller.
    /// </summary>
    public static Task LoadAsync(IDatabase database, IReadOnlyCollection<(long Id, string Username, string Email, RedisValue Document)> users)
    {
        var writes = new List<Task>();
        foreach (var bucket in users.GroupBy(user => BucketOf(user.Id)))
        {
            writes.Add(database.HashSetAsync(Data(bucket.Key), [.. bucket.Select(user => new HashEntry(user.Id, user.Document))]));
            writes.Add(database.SortedSetAddAsync(Order(bucket.Key), [.. bucket.Select(user => new SortedSetEntry(user.Id, user.Id))]));
        }

        foreach (var (id, username, email, _) in users)
        {
            var claim = Claim.Format(id, at: 0, "loaded");
            writes.Add(database.StringSetAsync(UsernameClaim(username), claim));
            writes.Add(database.StringSetAsync(EmailClaim(email), claim));
        }

        return Task.WhenAll(writes);
    }
}
