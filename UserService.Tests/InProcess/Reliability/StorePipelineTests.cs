using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using UserService.Infrastructure;
using UserService.Users;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// Store calls go through a circuit breaker, which opens on store failures and on nothing else, lets one call
/// try the store after its break, and counts only the last few seconds; the Redis client bounds each call.
/// </summary>
public sealed class StorePipelineTests
{
    private static readonly RedisConnectionException StoreDown = new(ConnectionFailureType.SocketFailure, "store down");

    private readonly ManualClock clock = new();
    private readonly IMeterFactory meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
    private readonly StoreBreaker breaker;

    public StorePipelineTests() => breaker = new StoreBreaker(clock, new UsersTelemetry(meters), NullLogger<StoreBreaker>.Instance);

    [Fact]
    public void RedisClientGivesUpOnACallBeforeTheTwoSecondsACallerWaits()
    {
        var options = new ConfigurationOptions();

        StoreResilience.Configure(options);

        // A call times out on the first heartbeat after its timeout.
        Assert.InRange(TimeSpan.FromMilliseconds(options.AsyncTimeout) + options.HeartbeatInterval, TimeSpan.Zero, TimeSpan.FromSeconds(1.8));
    }

    [Fact]
    public async Task BreakerOpensAfterRedisFailuresAndThenFailsFastWithoutCallingTheStore()
    {
        for (var i = 0; i < StoreBreaker.MinimumThroughput; i++)
        {
            await FailAsync();
        }

        var called = false;
        var refused = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await breaker.CallStoreAsync(() =>
        {
            called = true;
            return Task.FromResult(0);
        }));

        Assert.False(called);
        Assert.False(refused.MayHaveApplied);
        Assert.Equal(StoreResilience.BreakDuration, refused.RetryAfter);
    }

    [Fact]
    public async Task BreakerStaysClosedWhileFewerThanHalfOfTheRecentCallsFail()
    {
        for (var i = 0; i < 5; i++)
        {
            await SucceedAsync();
        }

        for (var i = 0; i < 4; i++)
        {
            await FailAsync();
        }

        Assert.True(breaker.IsClosed);

        await FailAsync();

        Assert.False(breaker.IsClosed);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CallsTheRequestsDeadlineCutShortAreCountedOnceTheyEnd(bool storeFails)
    {
        RequestDeadline.Start(clock);
        clock.Advance(RequestDeadline.Budget - TimeSpan.FromMilliseconds(20));
        var calls = Enumerable.Range(0, StoreBreaker.MinimumThroughput).Select(_ => new TaskCompletionSource<int>()).ToList();

        foreach (var call in calls)
        {
            var cut = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await breaker.CallStoreAsync(() => call.Task));
            Assert.True(cut.MayHaveApplied);
        }

        Assert.True(breaker.IsClosed);
        calls.ForEach(call => _ = storeFails ? call.TrySetException(StoreDown) : call.TrySetResult(0));

        Assert.Equal(!storeFails, breaker.IsClosed);
    }

    [Fact]
    public async Task CallsEndingAtOnceOnManyThreadsAreEachCounted()
    {
        const int Each = 2_000;

        await Parallel.ForAsync(0, Each, TestContext.Current.CancellationToken, async (_, _) => await SucceedAsync());
        await Parallel.ForAsync(0, Each - 1, TestContext.Current.CancellationToken, async (_, _) => await FailAsync());

        // One failure short of half: a success lost to a race would have opened it already.
        Assert.True(breaker.IsClosed);

        await FailAsync();

        Assert.False(breaker.IsClosed);
    }

    [Fact]
    public async Task BreakerForgetsFailuresOlderThanItsSamplingDuration()
    {
        for (var i = 0; i < StoreBreaker.MinimumThroughput - 1; i++)
        {
            await FailAsync();
        }

        clock.Advance(StoreBreaker.SamplingDuration + TimeSpan.FromSeconds(1));
        await FailAsync();

        Assert.True(breaker.IsClosed);
    }

    [Fact]
    public async Task AfterItsBreakOneCallTriesTheStoreAndItsSuccessClosesTheBreaker()
    {
        await OpenAsync();
        clock.Advance(StoreResilience.BreakDuration);

        var answer = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var trial = breaker.CallStoreAsync(() => answer.Task).AsTask();
        var meanwhile = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await breaker.CallStoreAsync(() => Task.FromResult(0)));
        answer.SetResult(1);

        Assert.Equal(1, await trial);
        Assert.False(meanwhile.MayHaveApplied);
        Assert.True(breaker.IsClosed);
        Assert.Equal(2, await breaker.CallStoreAsync(() => Task.FromResult(2)));
    }

    [Fact]
    public async Task TrialCallThatFailsOpensTheBreakerForAnotherBreak()
    {
        await OpenAsync();
        clock.Advance(StoreResilience.BreakDuration);

        await FailAsync();
        var refused = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await breaker.CallStoreAsync(() => Task.FromResult(0)));
        clock.Advance(StoreResilience.BreakDuration);

        Assert.Equal(StoreResilience.BreakDuration, refused.RetryAfter);
        Assert.Equal(3, await breaker.CallStoreAsync(() => Task.FromResult(3)));
    }

    [Fact]
    public async Task EachOpeningIsCountedInTheServiceMetrics()
    {
        long openings = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "userservice.store.breaker.openings")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref openings, value));
        listener.Start();

        await OpenAsync();
        clock.Advance(StoreResilience.BreakDuration);
        await FailAsync();

        Assert.Equal(2, Interlocked.Read(ref openings));
    }

    [Theory]
    [InlineData("CLUSTERDOWN The cluster is down")]
    [InlineData("TRYAGAIN Multiple keys request during rehashing of slot")]
    [InlineData("LOADING Redis is loading the dataset in memory")]
    [InlineData("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")]
    [InlineData("READONLY You can't write against a read only replica.")]
    public void StoreThatRefusesWhileItFailsOverIsUnavailableAndNothingWasApplied(string refusal)
    {
        var unavailable = StoreUnavailableException.From(new RedisServerException(refusal));

        Assert.NotNull(unavailable);
        Assert.False(unavailable.MayHaveApplied);
    }

    [Fact]
    public void CommandBegunOnAConnectionJustClosedIsUnavailableAndNothingWasApplied()
    {
        // What StackExchange.Redis throws when it writes to a connection a failover closed under it.
        var closed = new InvalidOperationException("Writing is not allowed after writer was completed.") { Source = "System.IO.Pipelines" };

        var unavailable = StoreUnavailableException.From(closed);

        Assert.NotNull(unavailable);
        Assert.False(unavailable.MayHaveApplied);
        Assert.Null(StoreUnavailableException.From(new InvalidOperationException("A bug of the service's own.")));
    }

    [Fact]
    public void ConnectionResetUnderACommandIsUnavailableAndTheCommandMayHaveBeenApplied()
    {
        var reset = new IOException("Connection reset by peer", new System.Net.Sockets.SocketException(104));

        var unavailable = StoreUnavailableException.From(reset);

        Assert.NotNull(unavailable);
        Assert.True(unavailable.MayHaveApplied);
    }

    [Fact]
    public void StoreThatRefusesACommandAsWrongIsABugNotAnOutage() =>
        Assert.Null(StoreUnavailableException.From(new RedisServerException("ERR unknown command 'FOO'")));

    [Fact]
    public async Task FailuresThatAreNotAboutTheStoreDoNotCount()
    {
        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<InvalidDataException>(async () => await breaker.CallStoreAsync<int>(() => throw new InvalidDataException("corrupt document")));

            // What the output cache's own short bound throws: a slow answer, not an outage.
            await Assert.ThrowsAsync<StoreUnavailableException>(async () => await breaker.CallStoreAsync<int>(() => throw new TimeoutException()));
        }

        Assert.True(breaker.IsClosed);
        Assert.True(StoreBreaker.IsStoreFailure(new RedisTimeoutException("slow", CommandStatus.Sent)));
        Assert.True(StoreBreaker.IsStoreFailure(new RedisServerException("CLUSTERDOWN The cluster is down")));
        Assert.False(StoreBreaker.IsStoreFailure(new RedisServerException("ERR unknown command 'FOO'")));
    }

    private async Task OpenAsync()
    {
        while (breaker.IsClosed)
        {
            await FailAsync();
        }
    }

    private async Task FailAsync() =>
        await Assert.ThrowsAsync<StoreUnavailableException>(async () => await breaker.CallStoreAsync<int>(() => throw StoreDown));

    private async Task SucceedAsync() => Assert.Equal(1, await breaker.CallStoreAsync(() => Task.FromResult(1)));

    /// <summary>Time that moves only when a test moves it.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
    }
}
