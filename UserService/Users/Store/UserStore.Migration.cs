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
            var user = TryRead(id, entries[i + 1]);
            var answer = (user is null
                ? await LegacyLayout.QuarantineUserAsync(database, id, entries[i + 1])
                : await LegacyLayout.MoveUserAsync(database, id, entries[i + 1], IndexValue(user.Username), IndexValue(user.Email))).Answer;
            moved += answer == StoreLayout.ScriptAnswer.Moved ? 1 : 0;
            quarantined += answer == StoreLayout.ScriptAnswer.Quarantined ? 1 : 0;
        }

        return (moved, quarantined);
    }
}
