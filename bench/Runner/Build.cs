using System.Reflection;

namespace Bench;

/// <summary>Where the build put what the benchmark starts: values baked in as assembly metadata.</summary>
internal static class Build
{
    public static string GarnetServer => Metadata("GarnetServerPath");

    /// <summary>
    /// The repository the runner was built in, or <c>BENCH_REPOSITORY_ROOT</c>: a copy of it with the same
    /// Release outputs, where the runner runs from its published folder on a machine without the SDK.
    /// </summary>
    public static string RepositoryRoot => Environment.GetEnvironmentVariable("BENCH_REPOSITORY_ROOT") is { Length: > 0 } root
        ? Path.GetFullPath(root)
        : Metadata("RepositoryRoot");

    public static string Configuration => Metadata("Configuration");

    public static string Output(string project) =>
        Path.Combine(RepositoryRoot, project, "bin", Configuration, "net10.0", $"{Path.GetFileName(project)}.dll");

    /// <summary>Whether a build of the service is a Native AOT executable, which runs as it is, rather than an assembly that dotnet runs.</summary>
    public static bool IsNative(string build) => !build.EndsWith(".dll", StringComparison.Ordinal);

    /// <summary>What starts <paramref name="build"/>: the native executable itself, or dotnet with the assembly.</summary>
    public static (string FileName, string[] Arguments) Command(string build) =>
        IsNative(build) ? (build, []) : ("dotnet", [build]);

    private static string Metadata(string key) =>
        typeof(Build).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(attribute => attribute.Key == key).Value!;
}
