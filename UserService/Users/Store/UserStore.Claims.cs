using System.Globalization;
using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>
/// Uniqueness: a user holds a username or an email only while its claim (<see cref="Claim"/>)
/// names that user. A write claims a value before its document carries it, and gives it up after.
/// </summary>
public sealed partial class UserStore
{
    private enum Field
    {
        Username,
        Email,
    }

    /// <summary>A value a write needs for its user, and the claim key that holds it.</summary>
    private readonly record struct WantedClaim(Field Field, RedisKey Key, string Value);

    /// <summary>
    /// A claim a write holds: its value as the write set it, and whether it replaced a claim of the same user
    /// (<paramref name="Reasserted"/>), which another write of that user may still count on.
    /// </summary>
    private readonly record struct HeldClaim(RedisKey Key, string Mine, bool Reasserted = false);

    /// <summary>What a write holds after claiming, and the store time of its earliest claim (0 for none); or why it holds nothing.</summary>
    private readonly record struct Claims(IReadOnlyList<HeldClaim> Held, long At, WriteOutcome? Refusal)
    {
        public static readonly Claims None = new([], 0, null);
    }

    private static WantedClaim[] Wanted(UserFields fields)
    {
        var (username, email) = (IndexValue(fields.Username), IndexValue(fields.Email));
        return [new(Field.Username, StoreLayout.UsernameClaim(username), username), new(Field.Email, StoreLayout.EmailClaim(email), email)];
    }

    private static UserFields FieldsOf(User user) => new(user.Username, user.Email, user.DisplayName);

    private static bool Holds(User user, WantedClaim claim) =>
        IndexValue(claim.Field == Field.Username ? user.Username : user.Email) == claim.Value;

    /// <summary>
    /// Claims every value in <paramref name="wanted"/> for user <paramref name="id"/>, or none: a value another
    /// user holds, or that a write still in flight claimed, refuses the write and gives back what it claimed.
    /// Nothing here writes the user, so a store failure is reported as a write not applied. The claims, and
    /// what the write wrote before them (<paramref name="written"/>), are on a replica before it goes on.
    /// </summary>
    private async Task<Claims> ClaimAsync(long id, WantedClaim[] wanted, RedisKey[]? written = null)
    {
        if (wanted.Length == 0)
        {
            return Claims.None;
        }

        var token = Random.Shared.NextInt64().ToString("x", CultureInfo.InvariantCulture);
        var attempts = wanted.Select(claim => ClaimOneAsync(id, token, claim)).ToArray();
        try
        {
            await Task.WhenAll(attempts);
        }
        catch (StoreUnavailableException unavailable)
        {
            ReleaseDetached([.. attempts.Where(attempt => attempt.IsCompletedSuccessfully && attempt.Result.Held is not null).Select(attempt => attempt.Result.Held!.Value)]);
            throw new StoreUnavailableException(mayHaveApplied: false, unavailable.RetryAfter, unavailable);
        }

        var held = attempts.Where(attempt => attempt.Result.Held is not null).Select(attempt => attempt.Result.Held!.Value).ToArray();
        if (held.Length < wanted.Length)
        {
            await ReleaseAsync(held);
            var refused = wanted[Array.FindIndex(attempts, attempt => attempt.Result.Held is null)];
            return new([], 0, refused.Field == Field.Username ? WriteOutcome.UsernameTaken : WriteOutcome.EmailTaken);
        }

        // A claim a failover could lose would let a second user take the value: the replicas have it first.
        try
        {
            await ReplicatedAsync(held.Select(claim => claim.Key).Concat(written ?? []), applied: false);
        }
        catch (StoreUnavailableException unavailable)
        {
            ReleaseDetached(held);
            throw new StoreUnavailableException(mayHaveApplied: false, unavailable.RetryAfter, unavailable);
        }

        return new(held, attempts.Min(attempt => attempt.Result.At), null);
    }

    /// <summary>
    /// Claims one value: free or already this user's, it is taken at once. Another user's claim is taken over
    /// only when it is <see cref="StoreLayout.ClaimGrace"/> old (or stamped as far ahead) and its user does not
    /// hold the value.
    /// </summary>
    private async Task<(HeldClaim? Held, long At)> ClaimOneAsync(long id, string token, WantedClaim claim)
    {
        var reply = await CallAsync(database => Claim.SetAsync(database, claim.Key, id, token));
        if (Claimed(reply) is { } claimed)
        {
            return claimed;
        }

        var current = (string)reply[0]!;
        if (Math.Abs((long)reply[1]) < StoreLayout.ClaimGrace.TotalMilliseconds
            || Claim.Parse(current) is not { } owner
            || await HoldsAsync(owner.Id, claim))
        {
            return (null, 0);
        }

        reply = await CallAsync(database => Claim.TakeOverAsync(database, claim.Key, id, token, current));
        return Claimed(reply) ?? (null, 0);

        (HeldClaim? Held, long At)? Claimed(StoreLayout.ScriptReply reply)
        {
            if (reply.Answer != StoreLayout.ScriptAnswer.Claimed)
            {
                return null;
            }

            var at = (long)reply[0];
            var reasserted = Claim.Parse(reply[1])?.Id == id;
            return (new HeldClaim(claim.Key, Claim.Format(id, at, token), reasserted), at);
        }
    }

    /// <summary>Whether user <paramref name="id"/> exists and holds the claimed value.</summary>
    private async Task<bool> HoldsAsync(long id, WantedClaim claim)
    {
        var document = await CallAsync(database => database.HashGetAsync(StoreLayout.DataOf(id), id));
        return !document.IsNull && TryRead(id, document) is { } user && Holds(user, claim);
    }

    /// <summary>
    /// The claims among <paramref name="values"/> that name user <paramref name="id"/> now, as a write that is
    /// about to give them up sees them: it gives up only these, never a claim set after it looked.
    /// </summary>
    private async Task<HeldClaim[]> SeenClaimsAsync(long id, WantedClaim[] values)
    {
        var seen = await NotAppliedAsync(() => CallAsync(database => Task.WhenAll(values.Select(value => database.StringGetAsync(value.Key)))));
        return [.. values.Zip(seen)
            .Where(pair => Claim.Parse(pair.Second)?.Id == id)
            .Select(pair => new HeldClaim(pair.First.Key, (string)pair.Second!))];
    }

    /// <summary>
    /// Gives back the claims of a write that failed, without holding up its 503: the request's deadline may
    /// have passed already, and the claims would refuse the write's own retry until they are taken over.
    /// </summary>
    private void ReleaseDetached(IReadOnlyList<HeldClaim> held) => RequestDeadline.RunDetached(() => ReleaseAsync(held));

    /// <summary>
    /// Gives claims back, each only while it is still the one the write saw or set: what a write that was not
    /// applied claimed, and the values a write that was acknowledged gave up. A claim that replaced one of the
    /// same user stays: another write of that user, which claimed the value first, may still land with it, and
    /// a claim that names a user who does not hold the value is a leftover like any other. If the store cannot
    /// be reached in time, the claims stay too, until a write takes them over or the repair removes them.
    /// </summary>
    private async Task ReleaseAsync(IReadOnlyList<HeldClaim> held)
    {
        var released = held.Where(claim => !claim.Reasserted).ToList();
        if (released.Count == 0)
        {
            return;
        }

        try
        {
            await CallAsync(database => Task.WhenAll(released.Select(claim =>
                Claim.ReleaseAsync(database, claim.Key, claim.Mine))));
        }
        catch (StoreUnavailableException exception)
        {
            logger.ClaimsNotReleased(StoreLayout.ClaimGrace, exception);
        }
    }
}
