using System.Net;
using System.Net.Sockets;

namespace UserService.Tests.Infrastructure;

public static class FreePort
{
    /// <summary>A loopback port that nothing listened on a moment ago.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
