namespace UserService.Tests.Infrastructure;

/// <summary>
/// The local cache engines the closed-box tests run on. Garnet comes with the build; redis-server needs
/// the binary on the PATH. Where it is missing those tests skip, unless
/// <c>USERSERVICE_REQUIRE_ALL_ENGINES=1</c> (as in CI) turns the absence into a failure.
/// </summary>
public static class Engines
{
    public const string Garnet = "garnet";
    public const string RedisServer = "redis-server";

    public static TheoryData<string> Local => [Garnet, RedisServer];

    public static bool IsInstalled(string engine) => engine != RedisServer || IsOnPath("redis-server");

    public static void RequireInstalled(string engine)
    {
        if (IsInstalled(engine))
        {
            return;
        }

        const string Missing = "redis-server is not on the PATH (Debian: apt-get install redis-server).";
        if (Environment.GetEnvironmentVariable("USERSERVICE_REQUIRE_ALL_ENGINES") == "1")
        {
            Assert.Fail(Missing + " USERSERVICE_REQUIRE_ALL_ENGINES=1 requires every engine.");
        }

        Assert.Skip(Missing);
    }

    private static bool IsOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));
}
