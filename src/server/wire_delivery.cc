#include "server/wire_delivery.h"

#include "fmt/format.h"

namespace tablelake::server {
namespace {

// The wire's enums and the embedded API's strings share their names (BOOL ... INT96, PLAIN ...).
std::string TypeName(const wire::ParquetSchema& c) {
  return c.has_type() ? wire::ParquetSchema::DataType_Name(c.type()) : "";
}

Status RequireName(const std::string& value, const char* field) {
  if (value.empty()) return Status::InvalidArgument(fmt::format("{} is required", field));
  return Status::OK();
}

void Notify(const std::function<void(const std::string&, const std::string&)>& event,
            const std::string& table, const std::string& name) {
  if (event) event(table, name);
}

}  // namespace

DeliveryTaskConfig FromWire(const wire::OSSTaskConfig& w) {
  DeliveryTaskConfig c;
  c.oss_prefix = w.ossprefix();
  c.oss_dirty_prefix = w.ossdirtyprefix();
  c.oss_bucket = w.ossbucket();
  c.oss_endpoint = w.ossendpoint();
  c.oss_role = w.ossstsrole();
  c.format = wire::Format_Name(w.format());
  if (w.has_eventtimecolumn()) {
    c.event_time_column = w.eventtimecolumn().columnname();
    if (w.eventtimecolumn().has_timeformat()) {
      c.event_time_format = static_cast<EventTimeFormat>(w.eventtimecolumn().timeformat());
    }
  }
  for (const auto& s : w.schema()) {
    DeliveryColumn col;
    col.source = s.columnname();
    col.target = s.osscolumnname();
    col.type = TypeName(s);
    col.encoding = wire::Encoding_Name(s.encode());
    col.type_extend = s.typeextend();
    c.schema.push_back(std::move(col));
  }
  if (w.has_time_zone()) c.time_zone = w.time_zone();
  if (w.has_compression()) c.compression = w.compression();
  if (w.has_file_bytes()) c.file_bytes = w.file_bytes();
  if (w.has_flush_interval_seconds()) c.flush_interval_seconds = w.flush_interval_seconds();
  if (w.has_change_log_columns()) c.change_log_columns = w.change_log_columns();
  return c;
}

void ToWire(const DeliveryTaskConfig& c, wire::OSSTaskConfig* w) {
  w->set_ossprefix(c.oss_prefix);
  w->set_formatter(wire::YDMFormatter);
  w->set_ossdirtyprefix(c.oss_dirty_prefix);
  w->set_ossbucket(c.oss_bucket);
  w->set_ossendpoint(c.oss_endpoint);
  w->set_ossstsrole(c.oss_role);
  w->set_format(wire::Parquet);
  if (!c.event_time_column.empty()) {
    w->mutable_eventtimecolumn()->set_columnname(c.event_time_column);
    w->mutable_eventtimecolumn()->set_timeformat(
        static_cast<wire::EventColumn::eventTimeFormat>(c.event_time_format));
  }
  for (const auto& col : c.schema) {
    wire::ParquetSchema* s = w->add_schema();
    s->set_columnname(col.source);
    s->set_osscolumnname(col.target.empty() ? col.source : col.target);
    wire::ParquetSchema::DataType type;
    if (wire::ParquetSchema::DataType_Parse(col.type, &type)) s->set_type(type);
    wire::Encoding encoding;
    if (wire::Encoding_Parse(col.encoding, &encoding)) s->set_encode(encoding);
    if (!col.type_extend.empty()) s->set_typeextend(col.type_extend);
  }
  w->set_time_zone(c.time_zone);
  w->set_compression(c.compression);
  w->set_file_bytes(c.file_bytes);
  w->set_flush_interval_seconds(c.flush_interval_seconds);
  w->set_change_log_columns(c.change_log_columns);
}

DeliveryTaskStatus FromWire(const wire::TaskSyncStat& w) {
  DeliveryTaskStatus s;
  s.phase = static_cast<SyncPhase>(w.task_sync_phase());
  s.current_sync_timestamp_ns = w.current_sync_timestamp();
  s.error_code = w.has_error_name()   ? w.error_name()
                 : w.has_error_code() ? wire::ErrorType_Name(w.error_code())
                                      : "";
  s.error_detail = w.detail();
  s.rows_delivered = w.rows_delivered();
  s.dirty_rows = w.dirty_rows();
  s.deletes_skipped = w.deletes_skipped();
  s.files_written = w.files_written();
  s.bytes_written = w.bytes_written();
  s.lag_ms = w.lag_ms();
  s.finished = w.finished();
  s.memory_bytes = w.memory_bytes();
  s.memory_peak_bytes = w.memory_peak_bytes();
  return s;
}

void ToWire(const DeliveryTaskStatus& s, wire::TaskSyncStat* w) {
  w->set_task_sync_phase(static_cast<wire::TaskSyncStat::TaskSyncPhase>(s.phase));
  w->set_current_sync_timestamp(s.current_sync_timestamp_ns);
  wire::ErrorType type;
  if (!s.error_code.empty() && wire::ErrorType_Parse(s.error_code, &type)) w->set_error_code(type);
  if (!s.error_detail.empty()) w->set_detail(s.error_detail);
  if (!s.error_code.empty()) w->set_error_name(s.error_code);
  w->set_rows_delivered(s.rows_delivered);
  w->set_dirty_rows(s.dirty_rows);
  w->set_deletes_skipped(s.deletes_skipped);
  w->set_files_written(s.files_written);
  w->set_bytes_written(s.bytes_written);
  w->set_lag_ms(s.lag_ms);
  w->set_finished(s.finished);
  w->set_memory_bytes(s.memory_bytes);
  w->set_memory_peak_bytes(s.memory_peak_bytes);
}

Status CreateDeliveryTask(DeliveryService& service, const TaskEvents& events,
                          const wire::CreateDeliveryTaskRequest& r) {
  TL_RETURN_IF_ERROR(RequireName(r.tablename(), "tableName"));
  TL_RETURN_IF_ERROR(RequireName(r.taskname(), "taskName"));
  if (!r.has_taskconfig()) return Status::InvalidArgument("taskConfig is required");
  TL_RETURN_IF_ERROR(service.CreateDeliveryTask(r.tablename(), r.taskname(),
                                                FromWire(r.taskconfig()),
                                                static_cast<DeliveryTaskType>(r.tasktype())));
  Notify(events.created, r.tablename(), r.taskname());
  return Status::OK();
}

Status UpdateDeliveryTask(DeliveryService& service, const TaskEvents& events,
                          const wire::UpdateDeliveryTaskRequest& r) {
  TL_RETURN_IF_ERROR(RequireName(r.table(), "table"));
  TL_RETURN_IF_ERROR(RequireName(r.taskname(), "taskName"));
  if (!r.has_taskconfig()) return Status::InvalidArgument("taskConfig is required");
  TL_RETURN_IF_ERROR(service.DescribeDeliveryTask(r.table(), r.taskname()).status());
  // The running task stops first, so that it never delivers with half of each definition.
  Notify(events.updating, r.table(), r.taskname());
  Status s = service.UpdateDeliveryTask(r.table(), r.taskname(), FromWire(r.taskconfig()));
  Notify(events.updated, r.table(), r.taskname());  // runs again, with whichever definition
  return s;
}

Status DeleteDeliveryTask(DeliveryService& service, const TaskEvents& events,
                          const wire::DeleteDeliveryTaskRequest& r) {
  TL_RETURN_IF_ERROR(RequireName(r.tablename(), "tableName"));
  TL_RETURN_IF_ERROR(RequireName(r.taskname(), "taskName"));
  TL_RETURN_IF_ERROR(service.DescribeDeliveryTask(r.tablename(), r.taskname()).status());
  Notify(events.deleting, r.tablename(), r.taskname());
  return service.DeleteDeliveryTask(r.tablename(), r.taskname());
}

Status DescribeDeliveryTask(DeliveryService& service, const wire::DescribeDeliveryTaskRequest& r,
                            wire::DescribeDeliveryTaskResponse* out) {
  TL_RETURN_IF_ERROR(RequireName(r.tablename(), "tableName"));
  TL_RETURN_IF_ERROR(RequireName(r.taskname(), "taskName"));
  TL_ASSIGN_OR_RETURN(auto d, service.DescribeDeliveryTask(r.tablename(), r.taskname()));
  ToWire(d.config, out->mutable_taskconfig());
  ToWire(d.status, out->mutable_task_sync_stat());
  out->set_tasktype(static_cast<wire::DeliveryTaskType>(d.type));
  out->set_create_time_us(d.create_time_us);
  return Status::OK();
}

Status ListDeliveryTask(DeliveryService& service, const wire::ListDeliveryTaskRequest& r,
                        wire::ListDeliveryTaskResponse* out) {
  TL_ASSIGN_OR_RETURN(auto tasks, service.ListDeliveryTask(r.tablename()));
  for (const auto& t : tasks) {
    wire::DeliveryTaskInfo* info = out->add_tasks();
    info->set_tablename(t.table);
    info->set_taskname(t.name);
    info->set_tasktype(static_cast<wire::DeliveryTaskType>(t.type));
  }
  return Status::OK();
}

Status ListDeliveredFiles(DeliveryService& service, const wire::ListDeliveredFilesRequest& r,
                          wire::ListDeliveredFilesResponse* out) {
  TL_RETURN_IF_ERROR(RequireName(r.tablename(), "tableName"));
  TL_RETURN_IF_ERROR(RequireName(r.taskname(), "taskName"));
  TL_ASSIGN_OR_RETURN(auto files, service.ListDeliveredFiles(r.tablename(), r.taskname()));
  for (const auto& f : files) {
    wire::DeliveredFileInfo* info = out->add_files();
    info->set_key(f.key);
    info->set_rows(f.rows);
    info->set_bytes(f.bytes);
    info->set_time_ms(f.time_ms);
  }
  return Status::OK();
}

Status DropTable(DeliveryService& service, const TaskEvents& events, const std::string& table) {
  TL_ASSIGN_OR_RETURN(auto tasks, service.ListDeliveryTask(table));
  for (const auto& t : tasks) Notify(events.deleting, t.table, t.name);
  return service.DropTable(table).status();
}

Status PutCredentialSet(DeliveryService& service, const wire::PutCredentialSetRequest& r) {
  TL_RETURN_IF_ERROR(RequireName(r.role(), "role"));
  TL_RETURN_IF_ERROR(RequireName(r.access_key_id(), "access_key_id"));
  TL_RETURN_IF_ERROR(RequireName(r.access_key_secret(), "access_key_secret"));
  CredentialSet keys;
  keys.access_key_id = r.access_key_id();
  keys.access_key_secret = r.access_key_secret();
  keys.security_token = r.security_token();
  keys.region = r.region();
  keys.oss_signature = r.oss_signature();
  return service.PutCredentialSet(r.role(), keys);
}

Status ListCredentialSet(DeliveryService& service, wire::ListCredentialSetResponse* out) {
  TL_ASSIGN_OR_RETURN(auto sets, service.ListCredentialSets());
  for (const auto& [role, key_id] : sets) {
    wire::CredentialSetInfo* info = out->add_sets();
    info->set_role(role);
    info->set_access_key_id(key_id);
  }
  return Status::OK();
}

Status DeleteCredentialSet(DeliveryService& service, const wire::DeleteCredentialSetRequest& r) {
  TL_RETURN_IF_ERROR(RequireName(r.role(), "role"));
  return service.DeleteCredentialSet(r.role());
}

}  // namespace tablelake::server
