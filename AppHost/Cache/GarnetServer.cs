using System.Reflection;

namespace AppHost.Cache;

/// <summary>Where the build put Garnet's server: the <c>garnet-server</c> package, restored as files.</summary>
public static class GarnetServer
{
    public static string AssemblyPath { get; } = typeof(GarnetServer).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "GarnetServerPath").Value!;
}
