using System.Reflection;

namespace Bench;

/// <summary>Where the build put what the benchmark starts: values baked in as assembly metadata.</summary>
internal static class Build
{
    public static string GarnetServer => Metadata("GarnetServerPath");

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    public static string Configuration => Metadata("Configuration");

    public static string Output(string project) =>
        Path.Combine(RepositoryRoot, project, "bin", Configuration, "net10.0", $"{Path.GetFileName(project)}.dll");

    private static string Metadata(string key) =>
        typeof(Build).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(attribute => attribute.Key == key).Value!;
}
