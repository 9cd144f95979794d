using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Testing;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>Store calls go through a circuit breaker, which opens on store failures and on nothing else, around a timeout.</summary>
public sealed class StorePipelineTests(GarnetUserService factory) : IClassFixture<GarnetUserService>
{
    private ResiliencePipeline Pipeline =>
        factory.Services.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline(StoreResilience.PipelineName);

    [Fact]
    public void PipelineIsOneCircuitBreakerWithTheDocumentedSettings()
    {
        var breaker = Assert.IsType<CircuitBreakerStrategyOptions>(Assert.Single(Pipeline.GetPipelineDescriptor().Strategies).Options);

        Assert.Equal(StoreResilience.BreakDuration, breaker.BreakDuration);
        Assert.Equal(0.5, breaker.FailureRatio);
        Assert.Equal(TimeSpan.FromSeconds(5), breaker.SamplingDuration);
    }

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
        var pipeline = Pipeline;
        for (var i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<RedisConnectionException>(async () => await pipeline.ExecuteAsync<int>(
                _ => throw new RedisConnectionException(ConnectionFailureType.SocketFailure, "store down"), TestContext.Current.CancellationToken));
        }

        var called = false;
        await Assert.ThrowsAsync<BrokenCircuitException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            called = true;
            return ValueTask.FromResult(0);
        }, TestContext.Current.CancellationToken));
        Assert.False(called);
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
        var breaker = Assert.IsType<CircuitBreakerStrategyOptions>(Pipeline.GetPipelineDescriptor().Strategies.Single().Options);
        var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);

        var handlesTimeout = await breaker.ShouldHandle(new CircuitBreakerPredicateArguments<object>(
            context, Outcome.FromException<object>(new RedisTimeoutException("slow", CommandStatus.Sent))));
        var handlesShortBound = await breaker.ShouldHandle(new CircuitBreakerPredicateArguments<object>(
            context, Outcome.FromException<object>(new TimeoutException())));
        var handlesBug = await breaker.ShouldHandle(new CircuitBreakerPredicateArguments<object>(
            context, Outcome.FromException<object>(new InvalidDataException("corrupt document"))));

        Assert.True(handlesTimeout);
        Assert.False(handlesShortBound);
        Assert.False(handlesBug);
    }
}
