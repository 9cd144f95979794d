using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>The users of a store written before the buckets, moved into them: what <see cref="StoreMigration"/> runs, batch by batch.</summary>
public sealed partial class UserStore
{
    /// <summary>
    /// Moves users of <see cref="LegacyLayout"/> (id, document pairs, as a scan returns them) into their
    /// buckets, with their claims; documents it cannot read go to their bucket's quarantine. Answers how many
    /// of each.
    /// </summary>
    internal async Task<(int Moved, int Quarantined)> MoveLegacyUsersAsync(RedisValue[] entries)
    {
        var database = redis.GetDatabase();
        var (moved, quarantined) = (0, 0);
        for (var i = 0; i + 1 < entries.Length; i += 2)
        {
            var id = (long)entries[i];
            var bucket = StoreLayout.BucketOf(id);
            var user = TryRead(id, entries[i + 1]);
            var answer = (string?)await database.ScriptEvaluateAsync(user is null ? LegacyLayout.QuarantineUser : LegacyLayout.MoveUser, new
            {
                oldData = LegacyLayout.Data,
                byUsername = LegacyLayout.ByUsername,
                byEmail = LegacyLayout.ByEmail,
                username = IndexValue(user?.Username ?? ""),
                email = IndexValue(user?.Email ?? ""),
                data = StoreLayout.Data(bucket),
                order = StoreLayout.Order(bucket),
                quarantine = StoreLayout.Quarantine(bucket),
                usernameClaim = StoreLayout.UsernameClaim(IndexValue(user?.Username ?? "")),
                emailClaim = StoreLayout.EmailClaim(IndexValue(user?.Email ?? "")),
                id,
                expected = entries[i + 1],
            });
            moved += answer == "Moved" ? 1 : 0;
            quarantined += answer == "Quarantined" ? 1 : 0;
        }

        return (moved, quarantined);
    }
}
