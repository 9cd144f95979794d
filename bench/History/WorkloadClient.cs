using System.Net.Http.Headers;

namespace History;

/// <summary>
/// One client's way to the service, which sends each write exactly once. HttpClient sends a request without a
/// body again, on a new connection, when its connection closes before a byte of answer: a delete applied by a
/// service replica killed before it answered reached the other replica a second time, and only that second
/// answer, a <c>404</c>, was recorded, which made a delete that had deleted look like none. A write therefore
/// always has a body, empty for a delete: cut, it is recorded unanswered, as a client sees it. A read sent
/// again is still a read between its own start and end.
/// </summary>
public sealed class WorkloadClient(Func<HttpClient> createClient, TimeSpan requestTimeout) : IDisposable
{
    private readonly HttpClient http = Prepare(createClient(), requestTimeout);

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Get && request.Method != HttpMethod.Head)
        {
            request.Content ??= new ByteArrayContent([]);
        }

        return http.SendAsync(request);
    }

    public void Dispose() => http.Dispose();

    private static HttpClient Prepare(HttpClient http, TimeSpan requestTimeout)
    {
        http.Timeout = requestTimeout;
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return http;
    }
}
