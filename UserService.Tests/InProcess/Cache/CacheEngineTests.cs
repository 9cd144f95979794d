using AppHost.Cache;

namespace UserService.Tests.InProcess.Cache;

public sealed class CacheEngineTests
{
    private static readonly ContainerRuntimeStatus DockerAnswers = new("docker", IsHealthy: true, "server 28.2.2");
    private static readonly ContainerRuntimeStatus NothingAnswers = new("docker/podman", IsHealthy: false, "docker: cannot connect");

    [Theory]
    [InlineData(null, CacheEngine.Auto)]
    [InlineData("", CacheEngine.Auto)]
    [InlineData("auto", CacheEngine.Auto)]
    [InlineData("container", CacheEngine.Container)]
    [InlineData("garnet", CacheEngine.Garnet)]
    [InlineData("Redis-Server", CacheEngine.RedisServer)]
    public void ConfiguredNameSelectsTheEngine(string? value, CacheEngine expected) =>
        Assert.Equal(expected, CacheEngines.Parse(value));

    [Fact]
    public void UnknownEngineNameFailsWithTheValuesThatAreAllowed()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CacheEngines.Parse("memcached"));

        Assert.Contains("Cache:Engine", error.Message);
        Assert.Contains("auto, container, garnet, redis-server", error.Message);
    }

    [Fact]
    public void AutoTakesTheContainerWhenARuntimeAnswers()
    {
        var choice = CacheEngines.Choose(CacheEngine.Auto, isPublishMode: false, () => DockerAnswers);

        Assert.Equal(CacheEngine.Container, choice.Engine);
        Assert.Contains("docker answered", choice.Reason);
    }

    [Fact]
    public void AutoFallsBackToGarnetAndSaysWhyWhenNoRuntimeAnswers()
    {
        var choice = CacheEngines.Choose(CacheEngine.Auto, isPublishMode: false, () => NothingAnswers);

        Assert.Equal(CacheEngine.Garnet, choice.Engine);
        Assert.Contains("docker: cannot connect", choice.Reason);
    }

    [Theory]
    [InlineData(CacheEngine.Garnet)]
    [InlineData(CacheEngine.RedisServer)]
    [InlineData(CacheEngine.Container)]
    public void ExplicitEngineIsTakenWithoutProbingForARuntime(CacheEngine engine)
    {
        var choice = CacheEngines.Choose(engine, isPublishMode: false, () => throw new InvalidOperationException("probed"));

        Assert.Equal(engine, choice.Engine);
    }

    [Theory]
    [InlineData(CacheEngine.Auto)]
    [InlineData(CacheEngine.Garnet)]
    [InlineData(CacheEngine.RedisServer)]
    public void PublishingAlwaysTakesTheContainer(CacheEngine configured)
    {
        var choice = CacheEngines.Choose(configured, isPublishMode: true, () => NothingAnswers);

        Assert.Equal(CacheEngine.Container, choice.Engine);
    }

    [Fact]
    public void ProbeOfARuntimeThatIsNotInstalledIsUnhealthy()
    {
        var status = ContainerRuntimeStatus.Probe($"no-such-runtime-{Guid.NewGuid():N}");

        Assert.False(status.IsHealthy);
        Assert.Contains("not installed", status.Detail);
    }
}
