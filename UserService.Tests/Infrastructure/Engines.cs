namespace UserService.Tests.Infrastructure;

/// <summary>
/// The local cache engines the closed-box tests run on. Garnet comes with the build; redis-server and the
/// cluster need the binaries on the PATH (redis-server, and redis-cli to form the cluster). Where it is missing those tests skip, unless
/// <c>USERSERVICE_REQUIRE_ALL_ENGINES=1</c> (as in CI) turns the absence into a failure.
/// </summary>
public static class Engines
{
    public const string Garnet = "garnet";
    public const string RedisServer = "redis-server";
    public const string Cluster = "cluster";

    public static TheoryData<string> Local => [Garnet, RedisServer];

    public static bool IsInstalled(string engine) => engine switch
    {
        RedisServer => IsOnPath("redis-server"),
        Cluster => IsOnPath("redis-server") && IsOnPath("redis-cli"),
        _ => true,
    };

    public static void RequireInstalled(string engine)
    {
        if (IsInstalled(engine))
        {
            return;
        }

        Missing("redis-server or redis-cli is not on the PATH (Debian: apt-get install redis-server redis-tools).");
    }

    /// <summary>Another program a test needs, from the Debian package <paramref name="package"/>, required as the engines are.</summary>
    public static void RequireProgram(string program, string package)
    {
        if (!IsOnPath(program))
        {
            Missing($"{program} is not on the PATH (Debian: apt-get install {package}).");
        }
    }

    /// <summary>The environment variable that names the service published as Native AOT, for the tests of that build.</summary>
    public const string NativeBinaryVariable = "USERSERVICE_NATIVE_BINARY";

    /// <summary>
    /// The service published as Native AOT, required as the engines are: CI publishes it before the tests
    /// (<c>.ci/run</c>); elsewhere, <c>dotnet publish UserService -c Release -r linux-x64 -p:PublishAot=true -o DIR</c>
    /// (Debian: apt-get install clang zlib1g-dev), then <see cref="NativeBinaryVariable"/>=DIR/UserService.
    /// </summary>
    public static string RequireNativeBinary()
    {
        if (Environment.GetEnvironmentVariable(NativeBinaryVariable) is { Length: > 0 } binary && File.Exists(binary))
        {
            return binary;
        }

        Missing($"No Native AOT build of the service: {NativeBinaryVariable} names none (publish it with -p:PublishAot=true and set it).");
        return "";
    }

    private static void Missing(string what)
    {
        if (Environment.GetEnvironmentVariable("USERSERVICE_REQUIRE_ALL_ENGINES") == "1")
        {
            Assert.Fail(what + " USERSERVICE_REQUIRE_ALL_ENGINES=1 requires every engine and what its tests need.");
        }

        Assert.Skip(what);
    }

    private static bool IsOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));
}
