using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// The guards a bucket script keeps, asked of the store directly, on both engines: a document whose claims
/// are older than <see cref="StoreLayout.WriteDeadline"/> by the store's clock, or stamped as far ahead of
/// it, is refused, since another write may take those claims over; an id already in use is refused, since a counter can go back.
/// </summary>
public abstract class StoreScriptTests(UserServiceFactory factory)
{
    private static readonly long Deadline = (long)StoreLayout.WriteDeadline.TotalMilliseconds;

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public async Task DocumentOfAWriteWhoseClaimsAreStampedBeyondTheDeadlineEitherWayIsRefusedAndNotWritten(int direction)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var database = redis.GetDatabase();
        var id = await database.StringIncrementAsync(StoreLayout.NextId);

        // Older than the deadline, or stamped as far ahead by a clock that a claim may take over for it.
        var late = await InsertAsync(database, id, claimedAt: await StoreTimeAsync(database) + direction * (Deadline + 1_000));
        var inTime = await InsertAsync(database, id, claimedAt: await StoreTimeAsync(database));

        Assert.Equal(StoreLayout.ScriptAnswer.Late, late);
        Assert.Equal(StoreLayout.ScriptAnswer.Applied, inTime);
    }

    [Fact]
    public async Task DocumentForAnIdInUseIsRefused()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var database = redis.GetDatabase();
        var id = await database.StringIncrementAsync(StoreLayout.NextId);
        await InsertAsync(database, id, claimedAt: await StoreTimeAsync(database));

        var again = await InsertAsync(database, id, claimedAt: await StoreTimeAsync(database));

        Assert.Equal(StoreLayout.ScriptAnswer.IdTaken, again);
    }

    private static async Task<StoreLayout.ScriptAnswer> InsertAsync(IDatabase database, long id, long claimedAt) =>
        (await StoreLayout.InsertAsync(database, id, StoreSeed.Document(StoreSeed.User(id)), claimedAt)).Answer;

    /// <summary>The store's clock in milliseconds, as its scripts read it.</summary>
    private static async Task<long> StoreTimeAsync(IDatabase database)
    {
        var time = (RedisResult[])(await database.ExecuteAsync("TIME"))!;
        return (long)time[0] * 1000 + (long)time[1] / 1000;
    }
}

public sealed class StoreScriptsOnGarnetTests(GarnetUserService factory) : StoreScriptTests(factory), IClassFixture<GarnetUserService>;

public sealed class StoreScriptsOnRedisServerTests(StoreScriptsOnRedisServerTests.Service factory) : StoreScriptTests(factory), IClassFixture<StoreScriptsOnRedisServerTests.Service>
{
    public sealed class Service(RedisStoreServer store) : UserServiceFactory(store);
}
